// What every screen of the console shares: the API client (tokens in this module's memory only,
// renewed by the refresh token), DOM helpers that never turn API data into markup, messages, and a
// small Markdown preview built from DOM nodes.
export const API = document.querySelector('meta[name="api-base"]').content;
export const session = { access: null, refresh: null, challenge: null, me: null };

export const $ = (id) => document.getElementById(id);

export function show(id) {
  for (const section of document.querySelectorAll("main > section")) section.hidden = section.id !== id;
}

// Builds an element with text content only: API data never becomes markup.
export function el(tag, text, attributes = {}) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = text;
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  return node;
}

export function say(message) {
  $("status").textContent = message;
}

export function fail(message) {
  const box = $("error");
  box.textContent = message;
  box.hidden = !message;
}

// Puts each 422 detail next to its field (an element with id `<field>-error`); returns the rest.
export function fieldErrors(details, prefix = "") {
  for (const node of document.querySelectorAll(".field-error")) node.textContent = "";
  const unplaced = [];
  for (const detail of details || []) {
    const slot = $(`${prefix}${detail.field}-error`);
    if (slot) slot.textContent = detail.message;
    else unplaced.push(detail);
  }
  return unplaced;
}

// Shows an API error: field details beside their fields, the rest in the alert.
export function report(error, prefix = "") {
  const rest = fieldErrors(error.details, prefix);
  const extra = rest.map((d) => `${d.field}: ${d.message}`).join(" ");
  fail(extra ? `${error.message} ${extra}` : error.message);
}

export async function call(method, path, body, { retry = true, raw = false, type = "application/json" } = {}) {
  const headers = { "Content-Type": type };
  if (session.access) headers.Authorization = `Bearer ${session.access}`;
  const payload = body === undefined ? undefined : raw ? body : JSON.stringify(body);
  const response = await fetch(API + path, { method, headers, body: payload });
  if (response.status === 401 && retry && session.refresh) {
    if (await renew()) return call(method, path, body, { retry: false, raw, type });
  }
  const answer = response.status === 204 ? null : await response.json().catch(() => null);
  if (!response.ok) {
    const error = new Error((answer && answer.error && answer.error.message) || `HTTP ${response.status}`);
    error.status = response.status;
    error.details = answer && answer.error ? answer.error.details || [] : [];
    throw error;
  }
  return answer;
}

async function renew() {
  try {
    const tokens = await fetch(`${API}/auth/refresh`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ refresh: session.refresh }),
    });
    if (!tokens.ok) return false;
    Object.assign(session, await tokens.json());
    return true;
  } catch {
    return false;
  }
}

// Runs an action from a control, then says what happened (or shows why not).
export async function act(action, done) {
  fail("");
  try {
    await action();
    say(done);
    return true;
  } catch (error) {
    report(error);
    return false;
  }
}

export function options(select, values, { any = null, chosen = "" } = {}) {
  select.replaceChildren();
  if (any !== null) select.append(el("option", any, { value: "" }));
  for (const [value, label] of values) {
    const option = el("option", label, { value });
    option.selected = value === chosen;
    select.append(option);
  }
}

let taxonomy = null;

// The taxonomy, fetched once per sign-in (staff see retired nodes too); `fresh` refetches.
export async function categories(fresh = false) {
  if (!taxonomy || fresh) {
    const list = await call("GET", "/categories");
    const details = await Promise.all(list.map((c) => call("GET", `/categories/${encodeURIComponent(c.slug)}`)));
    taxonomy = details;
  }
  return taxonomy;
}

export function forgetTaxonomy() {
  taxonomy = null;
}

// --- Markdown preview: headings, paragraphs, lists, emphasis, code and http(s) links -------------

export function markdown(text) {
  const fragment = document.createDocumentFragment();
  const blocks = String(text || "").replace(/\r\n/g, "\n").split(/\n{2,}/);
  for (const block of blocks) {
    const lines = block.split("\n").filter((line) => line.trim() !== "");
    if (!lines.length) continue;
    const heading = /^(#{1,3})\s+(.*)$/.exec(lines[0]);
    if (heading && lines.length === 1) {
      fragment.append(inline(el(`h${heading[1].length + 2}`), heading[2]));
    } else if (lines.every((line) => /^\s*[-*]\s+/.test(line))) {
      const list = el("ul");
      for (const line of lines) list.append(inline(el("li"), line.replace(/^\s*[-*]\s+/, "")));
      fragment.append(list);
    } else if (lines.every((line) => /^\s*\d+[.)]\s+/.test(line))) {
      const list = el("ol");
      for (const line of lines) list.append(inline(el("li"), line.replace(/^\s*\d+[.)]\s+/, "")));
      fragment.append(list);
    } else {
      fragment.append(inline(el("p"), lines.join(" ")));
    }
  }
  return fragment;
}

const INLINE = /(\*\*[^*]+\*\*|\*[^*]+\*|`[^`]+`|\[[^\]]+\]\(https?:\/\/[^\s)]+\))/;

function inline(node, text) {
  for (const part of text.split(INLINE)) {
    if (!part) continue;
    if (part.startsWith("**") && part.endsWith("**") && part.length > 4) node.append(el("strong", part.slice(2, -2)));
    else if (part.startsWith("`") && part.endsWith("`") && part.length > 2) node.append(el("code", part.slice(1, -1)));
    else if (part.startsWith("*") && part.endsWith("*") && part.length > 2) node.append(el("em", part.slice(1, -1)));
    else if (part.startsWith("[")) {
      const [, label, href] = /^\[([^\]]+)\]\((.+)\)$/.exec(part);
      node.append(el("a", label, { href, rel: "noopener noreferrer" }));
    } else node.append(document.createTextNode(part));
  }
  return node;
}

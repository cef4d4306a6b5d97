// The staff console: talks only to the public JSON API (/api/v1). Tokens live in this module's
// memory (never in localStorage or cookies): a reload means signing in again; the refresh token
// renews the access token when it expires.
// Where the API is, as the page was served (behind API Gateway the path may start with the stage).
const API = document.querySelector('meta[name="api-base"]').content;
const STAFF = new Set(["editor", "examiner", "admin"]);
const session = { access: null, refresh: null, challenge: null };

const $ = (id) => document.getElementById(id);

function show(id) {
  for (const section of ["sign-in", "home", "import", "templates", "users", "audit"]) {
    $(section).hidden = section !== id;
  }
}

// Builds an element with text content only: API data never becomes markup.
function el(tag, text, attributes = {}) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  return node;
}

function say(message) {
  $("status").textContent = message;
}

function fail(message) {
  const box = $("error");
  box.textContent = message;
  box.hidden = !message;
}

function fieldErrors(details) {
  for (const node of document.querySelectorAll(".field-error")) node.textContent = "";
  for (const detail of details || []) {
    const slot = $(`${detail.field}-error`);
    if (slot) slot.textContent = detail.message;
  }
}

async function call(method, path, body, { retry = true } = {}) {
  const headers = { "Content-Type": "application/json" };
  if (session.access) headers.Authorization = `Bearer ${session.access}`;
  const response = await fetch(API + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (response.status === 401 && retry && session.refresh) {
    if (await renew()) return call(method, path, body, { retry: false });
  }
  const payload = response.status === 204 ? null : await response.json().catch(() => null);
  if (!response.ok) {
    const error = new Error((payload && payload.error && payload.error.message) || `HTTP ${response.status}`);
    error.status = response.status;
    error.details = payload && payload.error ? payload.error.details : [];
    throw error;
  }
  return payload;
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

async function enter(tokens) {
  Object.assign(session, { access: tokens.access, refresh: tokens.refresh, challenge: null });
  const me = await call("GET", "/me");
  if (!STAFF.has(me.role)) {
    await leave();
    fail("This console is for content editors, examiners and admins. Learners use the OpenMRCS app.");
    return;
  }
  $("who-text").textContent = `${me.display_name} (${me.role})`;
  $("who").hidden = false;
  for (const node of document.querySelectorAll("[data-admin]")) node.hidden = me.role !== "admin";
  for (const node of document.querySelectorAll("[data-role]")) {
    node.hidden = !(me.role === "admin" || me.role === node.dataset.role);
  }
  $("home-email").textContent = me.email;
  $("home-role").textContent = me.role;
  show("home");
  say(`Signed in as ${me.email}.`);
  $("main").focus();
}

async function leave() {
  if (session.access) await call("POST", "/auth/logout", undefined, { retry: false }).catch(() => null);
  Object.assign(session, { access: null, refresh: null, challenge: null });
  $("who").hidden = true;
  $("sign-in-form").hidden = false;
  $("code-form").hidden = true;
  $("sign-in-form").reset();
  show("sign-in");
}

$("sign-in-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  fail("");
  fieldErrors([]);
  try {
    const answer = await call("POST", "/auth/login", { email: $("email").value, password: $("password").value });
    if (answer.challenge) {
      session.challenge = answer.challenge;
      $("sign-in-form").hidden = true;
      $("code-form").hidden = false;
      $("code").focus();
      say("Enter the code from your authenticator app.");
      return;
    }
    await enter(answer);
  } catch (error) {
    fieldErrors(error.details);
    fail(error.message);
  }
});

$("code-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  fail("");
  try {
    await enter(await call("POST", "/auth/2fa", { challenge: session.challenge, code: $("code").value }));
  } catch (error) {
    fieldErrors(error.details);
    fail(error.message);
  }
});

$("sign-out").addEventListener("click", async () => {
  await leave();
  say("Signed out.");
  $("email").focus();
});

// --- users (admins) ---------------------------------------------------------------------------

let usersCursor = null;

async function searchUsers(more) {
  fail("");
  const query = new URLSearchParams({ email: $("users-email").value, limit: "20" });
  if ($("users-role").value) query.set("role", $("users-role").value);
  if (more && usersCursor) query.set("cursor", usersCursor);
  try {
    const page = await call("GET", `/admin/users?${query}`);
    const body = $("users-table").querySelector("tbody");
    if (!more) body.replaceChildren();
    for (const user of page.items) body.append(userRow(user));
    usersCursor = page.next_cursor;
    $("users-table").hidden = false;
    $("users-more").hidden = !usersCursor;
    say(`${body.children.length} account(s) shown.`);
  } catch (error) {
    fail(error.message);
  }
}

function userRow(user) {
  const row = el("tr");
  row.append(el("td", user.email), el("td", user.display_name), roleCell(user), extraTimeCell(user), accountCell(user));
  return row;
}

// Each control acts on one account; its accessible name says which.
async function act(action, done) {
  fail("");
  try {
    await action();
    say(done);
  } catch (error) {
    fail(error.details && error.details.length ? error.details.map((d) => d.message).join(" ") : error.message);
  }
}

function roleCell(user) {
  const cell = el("td");
  const form = el("form", undefined, { class: "inline" });
  const id = `role-${user.id}`;
  const select = el("select", undefined, { id });
  for (const role of ["user", "editor", "examiner", "admin"]) {
    const option = el("option", role, { value: role });
    option.selected = role === user.role;
    select.append(option);
  }
  form.append(el("label", `Role of ${user.email}`, { for: id, class: "visually-hidden" }), select);
  form.append(el("button", "Change", { type: "submit", "aria-label": `Change the role of ${user.email}` }));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const path = `/admin/users/${encodeURIComponent(user.id)}`;
    act(() => call("PATCH", path, { role: select.value }), `${user.email} is now ${select.value}.`);
  });
  cell.append(form);
  return cell;
}

function extraTimeCell(user) {
  const cell = el("td");
  const form = el("form", undefined, { class: "inline" });
  const inputId = `extra-${user.id}`;
  const input = el("input", undefined, { id: inputId, type: "number", min: "0", max: "200", value: "0" });
  form.append(el("label", `Extra time for ${user.email} (%)`, { for: inputId, class: "visually-hidden" }), input);
  form.append(el("button", "Grant", { type: "submit", "aria-label": `Grant extra time to ${user.email}` }));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const percent = Number(input.value);
    const path = `/admin/users/${encodeURIComponent(user.id)}/accommodations`;
    act(() => call("PUT", path, { extra_time_percent: percent }), `Extra time for ${user.email} set to ${percent}%.`);
  });
  cell.append(form);
  return cell;
}

function accountCell(user) {
  const cell = el("td");
  const base = `/admin/users/${encodeURIComponent(user.id)}`;
  const end = el("button", "End sessions", { type: "button", "aria-label": `End every session of ${user.email}` });
  end.addEventListener("click", () =>
    act(() => call("POST", `${base}/sessions/revoke`), `Every session of ${user.email} has ended.`),
  );
  const reset = el("button", "Reset 2FA", { type: "button", "aria-label": `Reset two-factor sign-in of ${user.email}` });
  reset.addEventListener("click", () =>
    act(() => call("DELETE", `${base}/2fa`), `Two-factor sign-in of ${user.email} is off; they were told by mail.`),
  );
  cell.append(end, " ", reset);
  return cell;
}

$("users-form").addEventListener("submit", (event) => {
  event.preventDefault();
  searchUsers(false);
});
$("users-more").addEventListener("click", () => searchUsers(true));

// --- import (editors) ------------------------------------------------------------------------

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

$("import-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  fail("");
  const file = $("import-file").files[0];
  if (!file) {
    fail("Choose a CSV or JSON file first.");
    return;
  }
  const csv = file.name.toLowerCase().endsWith(".csv");
  const dryRun = $("import-dry-run").checked;
  try {
    const response = await fetch(`${API}/questions/import?dry_run=${dryRun}`, {
      method: "POST",
      headers: { "Content-Type": csv ? "text/csv" : "application/json", Authorization: `Bearer ${session.access}` },
      body: await file.text(),
    });
    const payload = await response.json();
    if (!response.ok) throw Object.assign(new Error(payload.error.message), { details: payload.error.details });
    await followImport(payload.id);
  } catch (error) {
    fail(error.details && error.details.length ? error.details.map((d) => `${d.field}: ${d.message}`).join(" ") : error.message);
  }
});

async function followImport(jobId) {
  for (;;) {
    const job = await call("GET", `/questions/import/${encodeURIComponent(jobId)}`);
    const kind = job.dry_run ? "Dry run" : "Import";
    const good = job.dry_run ? `${job.total - job.skipped - job.failed} valid` : `${job.created} created`;
    $("import-summary").textContent = `${kind} ${job.status}: ${job.total} rows, ${good}, ${job.skipped} skipped, ${job.failed} failed.`;
    if (job.status === "completed" || job.status === "failed") {
      const body = $("import-rows").querySelector("tbody");
      body.replaceChildren();
      for (const row of job.rows) {
        const problems = row.errors.map((e) => `${e.field}: ${e.message}`).join("; ");
        const line = el("tr");
        line.append(el("td", String(row.row)), el("td", row.outcome), el("td", problems));
        body.append(line);
      }
      $("import-rows").hidden = job.rows.length === 0;
      return;
    }
    await sleep(500);
  }
}

// --- exam templates from a blueprint (examiners) -------------------------------------------------

async function loadBlueprint() {
  const categories = await call("GET", "/categories");
  const box = $("blueprint");
  box.replaceChildren(el("legend", "Questions per category (published questions available)"));
  for (const category of categories) {
    const id = `bp-${category.slug}`;
    const input = el("input", undefined, { id, type: "number", min: "0", max: String(category.question_count), value: "0" });
    input.dataset.slug = category.slug;
    input.addEventListener("input", updateTotal);
    const label = el("label", `${category.name} (${category.question_count} published)`, { for: id });
    box.append(label, input, el("span", "", { class: "field-error", id: `blueprint.${category.slug}-error` }));
  }
  updateTotal();
}

function blueprint() {
  const chosen = {};
  for (const input of $("blueprint").querySelectorAll("input")) {
    const count = Number(input.value);
    if (count > 0) chosen[input.dataset.slug] = count;
  }
  return chosen;
}

function updateTotal() {
  const total = Object.values(blueprint()).reduce((sum, n) => sum + n, 0);
  $("blueprint-total").textContent = `${total} question(s) in this paper.`;
}

$("template-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  fail("");
  fieldErrors([]);
  const chosen = blueprint();
  const body = {
    name: $("template-name").value,
    paper: $("template-paper").value,
    duration_minutes: Number($("template-minutes").value),
    pass_mark_percent: Number($("template-pass").value),
    total_questions: Object.values(chosen).reduce((sum, n) => sum + n, 0),
    blueprint: chosen,
  };
  try {
    const created = await call("POST", "/exams/templates", body);
    say(`Template "${created.name}" created: ${created.total_questions} questions, ${created.duration_minutes} minutes.`);
    $("template-form").reset();
    updateTotal();
  } catch (error) {
    fieldErrors(error.details);
    fail(error.message);
  }
});

// --- audit log (admins) -----------------------------------------------------------------------

$("audit-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  fail("");
  fieldErrors([]);
  const query = new URLSearchParams({ limit: "50" });
  if ($("audit-entity").value) query.set("entity", $("audit-entity").value.trim());
  try {
    const page = await call("GET", `/admin/audit?${query}`);
    const list = $("audit-list");
    list.replaceChildren();
    for (const entry of page.items) {
      const item = el("li");
      item.append(el("strong", entry.action), el("span", ` by ${entry.actor_id} at ${entry.at}`));
      const changes = el("pre", JSON.stringify({ before: entry.before, after: entry.after }, null, 1));
      item.append(changes);
      list.append(item);
    }
    say(`${page.items.length} event(s).`);
  } catch (error) {
    fieldErrors(error.details);
    fail(error.message);
  }
});

$("go-templates").addEventListener("click", () => loadBlueprint().catch((error) => fail(error.message)));

for (const [button, section, focus] of [
  ["go-home", "home", "home-title"],
  ["go-import", "import", "import-title"],
  ["go-templates", "templates", "templates-title"],
  ["go-users", "users", "users-email"],
  ["go-audit", "audit", "audit-entity"],
]) {
  $(button).addEventListener("click", () => {
    fail("");
    show(section);
    $(focus).focus();
  });
}

show("sign-in");

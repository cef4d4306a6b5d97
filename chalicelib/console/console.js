// The staff console: talks only to the public JSON API (/api/v1). Tokens live in this module's
// memory (never in localStorage or cookies): a reload means signing in again; the refresh token
// renews the access token when it expires.
// Where the API is, as the page was served (behind API Gateway the path may start with the stage).
const API = document.querySelector('meta[name="api-base"]').content;
const STAFF = new Set(["editor", "examiner", "admin"]);
const session = { access: null, refresh: null, challenge: null };

const $ = (id) => document.getElementById(id);

function show(id) {
  for (const section of ["sign-in", "home"]) $(section).hidden = section !== id;
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

show("sign-in");

// The staff console's entry: sign-in, navigation, and the admin and examiner screens. It talks
// only to the public JSON API (/api/v1); tokens live in core.js's memory (never in localStorage or
// cookies): a reload means signing in again; the refresh token renews the access token.
import { $, act, call, el, fail, fieldErrors, forgetTaxonomy, report, say, session, show } from "./core.js";
import { openContent } from "./content.js";
import { openQuestions, openReports } from "./questions.js";

const STAFF = new Set(["editor", "examiner", "admin"]);

async function enter(tokens) {
  Object.assign(session, { access: tokens.access, refresh: tokens.refresh, challenge: null });
  const me = await call("GET", "/me");
  session.me = me;
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
  Object.assign(session, { access: null, refresh: null, challenge: null, me: null });
  forgetTaxonomy();
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
    const type = csv ? "text/csv" : "application/json";
    const payload = await call("POST", `/questions/import?dry_run=${dryRun}`, await file.text(), { raw: true, type });
    await followImport(payload.id);
  } catch (error) {
    report(error);
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
  const fixed = $("template-source-fixed").checked;
  const ids = $("template-ids").value.split(/[\s,]+/).filter(Boolean);
  const body = {
    name: $("template-name").value,
    paper: $("template-paper").value,
    duration_minutes: Number($("template-minutes").value),
    pass_mark_percent: Number($("template-pass").value),
    total_questions: fixed ? ids.length : Object.values(chosen).reduce((sum, n) => sum + n, 0),
    ...(fixed ? { question_ids: ids } : { blueprint: chosen }),
  };
  try {
    const created = await call("POST", "/exams/templates", body);
    say(`Template "${created.name}" created: ${created.total_questions} questions, ${created.duration_minutes} minutes.`);
    $("template-form").reset();
    updateSource();
    updateTotal();
  } catch (error) {
    report(error);
  }
});

// A paper is drawn from a blueprint at each sitting, or is a fixed list of question ids.
function updateSource() {
  const fixed = $("template-source-fixed").checked;
  $("blueprint").hidden = fixed;
  $("blueprint-total").hidden = fixed;
  $("fixed-list").hidden = !fixed;
}

$("template-source-blueprint").addEventListener("change", updateSource);
$("template-source-fixed").addEventListener("change", updateSource);
$("template-ids").addEventListener("input", () => {
  const count = $("template-ids").value.split(/[\s,]+/).filter(Boolean).length;
  $("template-ids-count").textContent = `${count} question id(s).`;
});

// --- audit log (admins) -----------------------------------------------------------------------

$("audit-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  fail("");
  fieldErrors([]);
  const query = new URLSearchParams({ limit: "50" });
  if ($("audit-entity").value) query.set("entity", $("audit-entity").value.trim());
  if ($("audit-actor").value) query.set("actor", $("audit-actor").value.trim());
  // The period in the browser's zone, sent as instants with their offset.
  if ($("audit-from").value) query.set("from", new Date(`${$("audit-from").value}T00:00:00`).toISOString());
  if ($("audit-to").value) query.set("to", new Date(`${$("audit-to").value}T23:59:59`).toISOString());
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
    report(error, "audit-");
  }
});

$("go-templates").addEventListener("click", () => loadBlueprint().catch((error) => fail(error.message)));
$("go-questions").addEventListener("click", () => openQuestions().catch((error) => fail(error.message)));
$("go-reports").addEventListener("click", () => openReports().catch((error) => fail(error.message)));
for (const screen of ["taxonomy", "pages", "resources", "notifications"]) {
  $(`go-${screen}`).addEventListener("click", () => openContent(screen).catch((error) => fail(error.message)));
}

for (const [button, section, focus] of [
  ["go-home", "home", "home-title"],
  ["go-questions", "questions", "questions-title"],
  ["go-reports", "reports", "reports-title"],
  ["go-taxonomy", "taxonomy", "taxonomy-title"],
  ["go-pages", "pages", "pages-title"],
  ["go-resources", "resources", "resources-title"],
  ["go-notifications", "notifications", "notifications-title"],
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

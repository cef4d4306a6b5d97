// Questions: search and filters over the bank (GET /questions, text search by the stream-kept
// index), and the editor with a learner's-eye preview, versions side by side, restore, publish and
// archive. Every save names the version it was based on, so a change made meanwhile by someone else
// is refused (409) and shown, never overwritten.
import { $, act, call, categories, el, fail, fieldErrors, markdown, options, report, say, show } from "./core.js";

const TYPES = [["single", "Single best answer"], ["multi", "Multiple response"]];
const KINDS = [["image", "Image"], ["audio", "Audio"], ["video", "Video"]];
let listCursor = null;
let current = null; // the question as last read or saved (staff view)
let versions = [];

// --- the list ---------------------------------------------------------------------------------

export async function openQuestions() {
  const tree = await categories();
  options($("q-category"), tree.map((c) => [c.slug, c.name]), { any: "Any", chosen: $("q-category").value });
  fillSubcategories($("q-subcategory"), tree, $("q-category").value, "Any");
}

function fillSubcategories(select, tree, slug, any) {
  const node = tree.find((c) => c.slug === slug);
  const subs = node ? node.subcategories.map((s) => [s.slug, s.name]) : [];
  options(select, subs, { any, chosen: select.value });
  select.disabled = !node;
}

$("q-category").addEventListener("change", async () => {
  fillSubcategories($("q-subcategory"), await categories(), $("q-category").value, "Any");
});

async function searchQuestions(more) {
  fail("");
  fieldErrors([]);
  const query = new URLSearchParams({ limit: "20", status: $("q-status").value });
  for (const [name, id] of [["q", "q-text"], ["category", "q-category"], ["subcategory", "q-subcategory"],
    ["difficulty", "q-difficulty"], ["type", "q-type"], ["order", "q-order"]]) {
    const value = $(id).value.trim();
    if (value && !$(id).disabled) query.set(name, value);
  }
  if (more && listCursor) query.set("cursor", listCursor);
  try {
    const page = await call("GET", `/questions?${query}`);
    const body = $("questions-table").querySelector("tbody");
    if (!more) body.replaceChildren();
    for (const question of page.items) body.append(questionRow(question));
    listCursor = page.next_cursor;
    const shown = body.children.length;
    $("questions-table").hidden = shown === 0;
    $("questions-more").hidden = !listCursor;
    $("questions-more").textContent = shown === 0 && listCursor ? "Search further" : "More results";
    say(shown ? `${shown} question(s) shown${listCursor ? "; more available" : ""}.` :
      listCursor ? "No match yet in the part searched; search further." : "No question matches.");
  } catch (error) {
    report(error, "q-");
  }
}

function questionRow(question) {
  const row = el("tr");
  const open = el("button", excerpt(question.stem), { type: "button", class: "link" });
  open.addEventListener("click", () => openEditor(question.id));
  const stem = el("td");
  stem.append(open);
  const where = question.subcategory ? `${question.category} / ${question.subcategory}` : question.category;
  row.append(stem, el("td", where), el("td", String(question.difficulty)), el("td", question.type),
    el("td", question.status), el("td", (question.updated_at || "").slice(0, 10)));
  return row;
}

const excerpt = (text) => (text.length > 90 ? `${text.slice(0, 87)}…` : text);

$("questions-form").addEventListener("submit", (event) => {
  event.preventDefault();
  searchQuestions(false);
});
$("questions-more").addEventListener("click", () => searchQuestions(true));
$("q-new").addEventListener("click", () => openEditor(null));

// --- the editor -------------------------------------------------------------------------------

export async function openEditor(questionId) {
  fail("");
  fieldErrors([]);
  $("conflict").hidden = true;
  $("versions").hidden = true;
  const tree = await categories();
  try {
    current = questionId ? await call("GET", `/questions/${encodeURIComponent(questionId)}`) : null;
  } catch (error) {
    report(error);
    return;
  }
  fill(current || blank(tree), tree);
  show("editor");
  $("editor-title").focus();
}

function blank(tree) {
  return {
    stem: "", type: "single", category: tree.length ? tree[0].slug : "", subcategory: null, difficulty: 3,
    options: [{ text: "", is_correct: true }, { text: "", is_correct: false }], media: [], explanation: "",
    reference: "", status: "draft",
  };
}

function fill(question, tree) {
  $("editor-title").textContent = current ? "Edit question" : "New question";
  $("editor-meta").textContent = current
    ? `${question.status}, version ${question.version}, last saved ${question.updated_at}` : "Not saved yet.";
  $("ed-stem").value = question.stem;
  options($("ed-type"), TYPES, { chosen: question.type });
  options($("ed-category"), tree.map((c) => [c.slug, c.name]), { chosen: question.category });
  fillSubcategories($("ed-subcategory"), tree, question.category, "None");
  $("ed-subcategory").value = question.subcategory || "";
  $("ed-difficulty").value = String(question.difficulty);
  $("ed-explanation").value = question.explanation;
  $("ed-reference").value = question.reference;
  $("ed-options").querySelector("ol").replaceChildren(...question.options.map(optionRow));
  $("ed-media").querySelector("ol").replaceChildren(...question.media.map(mediaRow));
  $("ed-publish").hidden = !current || question.status === "published";
  $("ed-archive").hidden = !current || question.status === "archived";
  $("ed-versions").hidden = !current;
  statistics(current);
  preview();
}

const FLAGS = {
  too_hard: "too hard", too_easy: "too easy", poor_discrimination: "poor discrimination",
  negative_discrimination: "stronger learners get it wrong", distractor_attracts_strong: "a wrong option attracts stronger learners",
};

// How everyone answered (GET /questions/{id} gives staff the statistics and, with 30+ exam answers, the item analysis).
function statistics(question) {
  const stats = question && question.statistics;
  $("ed-stats").hidden = !stats;
  if (!stats) return;
  const median = stats.median_time_sec === null ? "no median time yet" : `median time ${stats.median_time_sec} s`;
  const answers = `${stats.answered} answer${stats.answered === 1 ? "" : "s"}`;
  $("ed-stats-summary").textContent = `${answers}, ${stats.percent_correct}% correct, ${median}.`;
  const text = new Map(question.options.map((o) => [o.id, `${o.text}${o.is_correct ? " (key)" : ""}`]));
  $("ed-stats-options").querySelector("tbody").replaceChildren(...stats.options.map((o) => {
    const row = el("tr");
    row.append(el("td", text.get(o.option_id) || o.option_id), el("td", `${o.percent}%`));
    return row;
  }));
  const analysis = question.item_analysis;
  $("ed-analysis").textContent = analysis
    ? `Item analysis of ${analysis.exam_answered} exam answers: difficulty ${analysis.difficulty}, discrimination `
      + `${analysis.discrimination === null ? "n/a" : analysis.discrimination}. `
      + (analysis.flags.length ? `Flagged: ${analysis.flags.map((f) => FLAGS[f] || f).join("; ")}.` : "Nothing flagged.")
    : "Item analysis: fewer than 30 exam answers so far.";
  const remark = question.last_remark;
  $("ed-remark").textContent = remark
    ? `Past exams re-marked after the key change of version ${remark.version} (${remark.at.slice(0, 16)}): `
      + `${remark.remarked} sittings re-marked, ${remark.scores_changed} scores changed`
      + (remark.pending ? `, ${remark.pending} waiting for the pipeline.` : ".")
    : "";
}

$("ed-category").addEventListener("change", async () => {
  fillSubcategories($("ed-subcategory"), await categories(), $("ed-category").value, "None");
  preview();
});

function optionRow(option) {
  const item = el("li", undefined, { class: "option-row" });
  if (option.id) item.dataset.id = option.id;
  const n = document.querySelectorAll("#ed-options li").length + Math.random().toString(36).slice(2, 7);
  const text = el("input", undefined, { id: `opt-${n}`, class: "option-text" });
  text.value = option.text;
  const correct = el("input", undefined, { id: `opt-${n}-correct`, type: "checkbox", class: "option-correct" });
  correct.checked = option.is_correct;
  const remove = el("button", "Remove", { type: "button" });
  remove.addEventListener("click", () => {
    item.remove();
    relabel();
    preview();
  });
  item.append(el("label", "Option", { for: text.id, class: "option-label" }), text,
    el("label", "Correct", { for: correct.id, class: "inline-label" }), correct, remove);
  return item;
}

// Labels say which option they belong to ("Option 2", "Correct: option 2") for screen readers.
function relabel() {
  $("ed-options").querySelectorAll("li").forEach((item, index) => {
    item.querySelector(".option-label").textContent = `Option ${index + 1}`;
    item.querySelector(".inline-label").textContent = `Option ${index + 1} is correct`;
    item.querySelector("button").setAttribute("aria-label", `Remove option ${index + 1}`);
  });
}

function mediaRow(media) {
  const item = el("li", undefined, { class: "media-row" });
  const n = Math.random().toString(36).slice(2, 8);
  const fields = [["url", "URL", "url"], ["alt_text", "Alt text (read to screen-reader users)", "text"],
    ["caption", "Caption", "text"]];
  for (const [name, label, type] of fields) {
    const input = el("input", undefined, { id: `media-${n}-${name}`, type, "data-name": name });
    input.value = media[name] || "";
    item.append(el("label", label, { for: input.id }), input);
  }
  const kind = el("select", undefined, { id: `media-${n}-kind`, "data-name": "kind" });
  options(kind, KINDS, { chosen: media.kind || "image" });
  const remove = el("button", "Remove media", { type: "button" });
  remove.addEventListener("click", () => {
    item.remove();
    preview();
  });
  item.append(el("label", "Kind", { for: kind.id }), kind, remove);
  return item;
}

$("ed-add-option").addEventListener("click", () => {
  const row = optionRow({ text: "", is_correct: false });
  $("ed-options").querySelector("ol").append(row);
  relabel();
  row.querySelector("input").focus();
});
$("ed-add-media").addEventListener("click", () => {
  const row = mediaRow({});
  $("ed-media").querySelector("ol").append(row);
  row.querySelector("input").focus();
});

function formBody() {
  const body = {
    stem: $("ed-stem").value,
    type: $("ed-type").value,
    category: $("ed-category").value,
    subcategory: $("ed-subcategory").value || null,
    difficulty: Number($("ed-difficulty").value),
    options: [...$("ed-options").querySelectorAll("li")].map((item) => ({
      ...(item.dataset.id ? { id: item.dataset.id } : {}),
      text: item.querySelector(".option-text").value,
      is_correct: item.querySelector(".option-correct").checked,
    })),
    media: [...$("ed-media").querySelectorAll("li")].map((item) => {
      const media = {};
      for (const input of item.querySelectorAll("[data-name]")) media[input.dataset.name] = input.value;
      return media;
    }),
    explanation: $("ed-explanation").value,
    reference: $("ed-reference").value,
    status: current ? current.status : "draft",
  };
  if (current) body.version = current.version;
  return body;
}

// The learner's view: the stem, media by their alt text, the options without the key.
function preview() {
  relabel();
  const body = formBody();
  const box = $("preview");
  box.replaceChildren(el("p", body.stem || "(no stem yet)"));
  for (const media of body.media) {
    const figure = el("figure");
    figure.append(el("p", `[${media.kind}: ${media.alt_text || "no alt text"}]`));
    if (media.caption) figure.append(el("figcaption", media.caption));
    box.append(figure);
  }
  const list = el("ul", undefined, { class: "preview-options" });
  for (const option of body.options) list.append(el("li", `${body.type === "multi" ? "☐" : "○"} ${option.text}`));
  box.append(list);
  const key = body.options.map((o, i) => (o.is_correct ? `Option ${i + 1}` : null)).filter(Boolean);
  $("preview-key").textContent = `Correct: ${key.join(", ") || "none marked"} (shown to learners only after they answer).`;
  $("explanation-preview").replaceChildren(markdown(body.explanation));
}

$("editor-form").addEventListener("input", preview);
$("editor-form").addEventListener("change", preview);

async function save(changes = {}) {
  fail("");
  fieldErrors([]);
  $("conflict").hidden = true;
  const body = { ...formBody(), ...changes };
  try {
    const saved = current
      ? await call("PUT", `/questions/${encodeURIComponent(current.id)}`, body)
      : await call("POST", "/questions", body);
    current = saved;
    fill(saved, await categories());
    say(`Saved: ${saved.status}, version ${saved.version}.`);
  } catch (error) {
    if (error.status === 409 && current && error.details.some((d) => d.field === "version")) {
      $("conflict-text").textContent = `${error.message} Your edits are still in the form; copy what you need, then load the latest version.`;
      $("conflict").hidden = false;
      $("conflict-reload").focus();
      return;
    }
    report(error, "ed-");
  }
}

$("editor-form").addEventListener("submit", (event) => {
  event.preventDefault();
  save();
});
$("ed-publish").addEventListener("click", () => save({ status: "published" }));
$("ed-archive").addEventListener("click", () => save({ status: "archived" }));
$("conflict-reload").addEventListener("click", () => openEditor(current.id));
$("ed-back").addEventListener("click", () => {
  show("questions");
  $("questions-title").focus();
});

// --- versions: side by side, restore ----------------------------------------------------------

const FIELDS = ["stem", "type", "category", "subcategory", "difficulty", "options", "media", "explanation", "reference", "status"];

function shown(question, field) {
  const value = question[field];
  if (field === "options") return value.map((o) => `${o.is_correct ? "✔" : "✘"} ${o.text}`).join("\n");
  if (field === "media") return value.map((m) => `${m.kind} ${m.url} (${m.alt_text})`).join("\n");
  return value === null || value === undefined ? "" : String(value);
}

$("ed-versions").addEventListener("click", async () => {
  try {
    versions = await call("GET", `/questions/${encodeURIComponent(current.id)}/versions`);
  } catch (error) {
    report(error);
    return;
  }
  const choices = versions.map((v) => [String(v.version), `Version ${v.version} (${v.edited_at.slice(0, 16)})`]);
  options($("ver-a"), choices, { chosen: String(versions.length > 1 ? versions[1].version : versions[0].version) });
  options($("ver-b"), choices, { chosen: String(versions[0].version) });
  $("versions").hidden = false;
  compare();
  $("versions-title").focus();
});

function compare() {
  const pick = (id) => versions.find((v) => String(v.version) === $(id).value).question;
  const a = pick("ver-a");
  const b = pick("ver-b");
  const body = $("diff").querySelector("tbody");
  body.replaceChildren();
  for (const field of FIELDS) {
    const left = shown(a, field);
    const right = shown(b, field);
    const row = el("tr", undefined, left === right ? {} : { class: "changed" });
    row.append(el("th", left === right ? field : `${field} (changed)`, { scope: "row" }), el("td", left), el("td", right));
    body.append(row);
  }
  $("ver-restore").textContent = `Restore version ${$("ver-a").value}`;
}

$("versions-form").addEventListener("submit", (event) => {
  event.preventDefault();
  compare();
});

// Restoring writes the old content as a new version (the status stays as it is now).
$("ver-restore").addEventListener("click", async () => {
  const old = versions.find((v) => String(v.version) === $("ver-a").value).question;
  const body = {};
  for (const field of FIELDS) body[field] = old[field];
  body.options = old.options.map(({ id, text, is_correct }) => ({ id, text, is_correct }));
  body.status = current.status;
  body.version = current.version;
  const restored = await act(async () => {
    current = await call("PUT", `/questions/${encodeURIComponent(current.id)}`, body);
  }, `Version ${old.version} restored as version ${current.version + 1}.`);
  if (restored) {
    fill(current, await categories());
    $("versions").hidden = true;
  }
});

// --- reports from learners: the queue, resolve or reject with a note, open the question ---------

const REASONS = { wrong_key: "Wrong answer key", unclear: "Unclear", outdated: "Out of date", typo: "Typo", other: "Other" };
let reportsCursor = null;

async function loadReports(more) {
  fail("");
  const query = new URLSearchParams({ status: $("rp-status").value, sort: $("rp-sort").value, limit: "25" });
  if (more && reportsCursor) query.set("cursor", reportsCursor);
  try {
    const page = await call("GET", `/questions/reports?${query}`);
    const byReport = $("reports-table").querySelector("tbody");
    const byQuestion = $("reported-table").querySelector("tbody");
    if (!more) {
      byReport.replaceChildren();
      byQuestion.replaceChildren();
    }
    for (const report of page.reports || []) byReport.append(reportRow(report));
    for (const reported of page.questions || []) {
      const row = el("tr");
      const cell = el("td");
      cell.append(openButton(reported.question_id));
      row.append(cell, el("td", String(reported.open_reports)));
      byQuestion.append(row);
    }
    $("reports-table").hidden = !page.reports || byReport.children.length === 0;
    $("reported-table").hidden = !page.questions || byQuestion.children.length === 0;
    reportsCursor = page.next_cursor;
    $("reports-more").hidden = !reportsCursor;
    say(`${byReport.children.length + byQuestion.children.length} shown.`);
  } catch (error) {
    report(error, "rp-");
  }
}

function openButton(questionId, excerpt) {
  const open = el("button", excerpt || `Question ${questionId.slice(0, 8)}…`, {
    type: "button",
    class: "link",
    "aria-label": `Open question ${questionId} in the editor`,
  });
  open.addEventListener("click", () => openEditor(questionId));
  return open;
}

function reportRow(item) {
  const row = el("tr");
  const question = el("td");
  question.append(openButton(item.question_id, item.question_excerpt));
  const decision = el("td");
  if (item.status === "open") {
    const noteId = `note-${item.id}`;
    const note = el("input", undefined, { id: noteId });
    decision.append(el("label", "Note to the learner", { for: noteId }), note);
    for (const [status, label] of [["resolved", "Resolve"], ["rejected", "Reject"]]) {
      const button = el("button", label, { type: "button", "aria-label": `${label} the report ${item.id}` });
      button.addEventListener("click", async () => {
        const path = `/questions/${encodeURIComponent(item.question_id)}/reports/${encodeURIComponent(item.id)}`;
        const done = await act(() => call("PATCH", path, { status, note: note.value }), `Report ${status}${item.raised_by === "learner" ? "; the learner is told." : "."}`);
        if (done) row.remove();
      });
      decision.append(" ", button);
    }
  } else {
    decision.textContent = `${item.status}: ${item.note || ""}`;
  }
  const reason = `${REASONS[item.reason] || item.reason}${item.raised_by === "item_analysis" ? " (item analysis)" : ""}`;
  row.append(question, el("td", reason), el("td", item.comment), el("td", item.created_at.slice(0, 16)), decision);
  return row;
}

$("reports-form").addEventListener("submit", (event) => {
  event.preventDefault();
  loadReports(false);
});
$("reports-more").addEventListener("click", () => loadReports(true));

export function openReports() {
  return loadReports(false);
}

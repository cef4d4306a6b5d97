// Content other than questions: the taxonomy (rename, reorder, retire, add), legal and help pages
// (Markdown with a preview), resources, and announcements to learners.
import { $, act, call, categories, el, fail, fieldErrors, forgetTaxonomy, markdown, options, report, say } from "./core.js";

export async function openContent(screen) {
  fail("");
  fieldErrors([]);
  if (screen === "taxonomy") await loadTaxonomy();
  if (screen === "pages") await loadPages();
  if (screen === "resources") await loadResources();
  if (screen === "notifications") await loadBroadcasts();
}

// --- taxonomy ---------------------------------------------------------------------------------

async function loadTaxonomy() {
  const tree = await categories(true);
  const body = $("taxonomy-table").querySelector("tbody");
  body.replaceChildren();
  for (const category of tree) {
    body.append(nodeRow(category, `/categories/${encodeURIComponent(category.slug)}`, category.name));
    for (const sub of category.subcategories) {
      const path = `/categories/${encodeURIComponent(category.slug)}/subcategories/${encodeURIComponent(sub.slug)}`;
      body.append(nodeRow(sub, path, `${category.name} / ${sub.name}`, true));
    }
  }
  options($("tx-parent"), tree.map((c) => [c.slug, c.name]), { any: "None (a new category)" });
}

// One row per category or subcategory: its name, order and status edited in place, saved together.
function nodeRow(node, path, title, nested = false) {
  const row = el("tr", undefined, nested ? { class: "nested" } : {});
  const key = path.replace(/[^a-z0-9]+/gi, "-");
  const name = el("input", undefined, { id: `${key}-name` });
  name.value = node.name;
  const order = el("input", undefined, { id: `${key}-order`, type: "number", min: "0", max: "1000" });
  order.value = String(node.order);
  const status = el("select", undefined, { id: `${key}-status` });
  options(status, [["active", "active"], ["retired", "retired"]], { chosen: node.status || "active" });
  const save = el("button", "Save", { type: "button", "aria-label": `Save ${title}` });
  save.addEventListener("click", () =>
    act(async () => {
      // Only this row is saved; the others keep any unsaved edits (no reload of the table).
      await call("PATCH", path, { name: name.value, order: Number(order.value), status: status.value });
      forgetTaxonomy();
    }, `${title} saved.`),
  );
  const cells = [
    [el("label", `Name of ${title}`, { for: name.id, class: "visually-hidden" }), name],
    [el("label", `Order of ${title}`, { for: order.id, class: "visually-hidden" }), order],
    [el("label", `Status of ${title}`, { for: status.id, class: "visually-hidden" }), status],
  ];
  const slug = el("td", nested ? `↳ ${node.slug}` : node.slug);
  row.append(slug);
  for (const parts of cells) {
    const cell = el("td");
    cell.append(...parts);
    row.append(cell);
  }
  const count = el("td", String(node.question_count));
  const actions = el("td");
  actions.append(save);
  row.append(count, actions);
  return row;
}

$("taxonomy-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const parent = $("tx-parent").value;
  const body = { slug: $("tx-slug").value.trim(), name: $("tx-name").value.trim() };
  const path = parent ? `/categories/${encodeURIComponent(parent)}/subcategories` : "/categories";
  fieldErrors([]);
  const added = await act(() => call("POST", path, body), `${body.name} added.`);
  if (added) {
    $("taxonomy-form").reset();
    await loadTaxonomy();
  }
});

// --- pages (Markdown) ------------------------------------------------------------------------

async function loadPages() {
  const pages = await call("GET", "/pages");
  const items = Array.isArray(pages) ? pages : pages.items;
  options($("pg-pick"), items.map((p) => [p.slug, `${p.title} (${p.slug}, ${p.status || "published"})`]), {
    any: "A new page",
  });
}

let pageVersion = null; // the version the form was loaded from: a save names it

async function loadPage(slug) {
  fail("");
  $("pg-conflict").hidden = true;
  pageVersion = null;
  if (!slug) {
    $("pages-form").reset();
    $("pg-preview").replaceChildren();
    return;
  }
  try {
    const page = await call("GET", `/pages/${encodeURIComponent(slug)}`);
    pageVersion = page.version ?? null;
    $("pg-slug").value = page.slug;
    $("pg-title").value = page.title;
    $("pg-body").value = page.body;
    $("pg-status").value = page.status || "published";
    $("pg-preview").replaceChildren(markdown(page.body));
  } catch (error) {
    report(error);
  }
}

$("pg-pick").addEventListener("change", () => loadPage($("pg-pick").value));
$("pg-conflict-reload").addEventListener("click", () => loadPage($("pg-slug").value.trim()));

$("pg-body").addEventListener("input", () => $("pg-preview").replaceChildren(markdown($("pg-body").value)));

$("pages-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  fieldErrors([]);
  const slug = $("pg-slug").value.trim();
  const body = { title: $("pg-title").value, body: $("pg-body").value, status: $("pg-status").value };
  if (pageVersion !== null && slug === $("pg-pick").value) body.version = pageVersion;
  if (!slug) {
    fieldErrors([{ field: "slug", message: "A page needs an address, for example terms." }], "pg-");
    return;
  }
  fail("");
  try {
    const saved = await call("PUT", `/pages/${encodeURIComponent(slug)}`, body);
    pageVersion = saved.version ?? null;
    say(`Page ${slug} saved (${body.status}).`);
    await loadPages();
    $("pg-pick").value = slug;
  } catch (error) {
    if (error.status === 409 && error.details.some((d) => d.field === "version")) {
      $("pg-conflict-text").textContent = `${error.message} Your text is still in the form; copy what you need, then load the latest version.`;
      $("pg-conflict").hidden = false;
      $("pg-conflict-reload").focus();
      return;
    }
    report(error, "pg-");
  }
});

// --- resources -----------------------------------------------------------------------------------

let editingResource = null;

async function loadResources() {
  const pages = await Promise.all(["draft", "published"].map((status) => call("GET", `/resources?limit=100&status=${status}`)));
  const resources = pages.flatMap((page) => page.items);
  const body = $("resources-table").querySelector("tbody");
  body.replaceChildren();
  for (const resource of resources) {
    const row = el("tr");
    const edit = el("button", "Edit", { type: "button", "aria-label": `Edit ${resource.title}` });
    edit.addEventListener("click", () => editResource(resource));
    const remove = el("button", "Delete", { type: "button", "aria-label": `Delete ${resource.title}` });
    remove.addEventListener("click", () =>
      act(async () => {
        await call("DELETE", `/resources/${encodeURIComponent(resource.id)}`);
        await loadResources();
      }, `${resource.title} deleted.`),
    );
    const actions = el("td");
    actions.append(edit, " ", remove);
    row.append(el("td", resource.title), el("td", resource.kind), el("td", resource.status || "published"), actions);
    body.append(row);
  }
  $("resources-table").hidden = resources.length === 0;
  const tree = await categories();
  options($("rs-category"), tree.map((c) => [c.slug, c.name]), { any: "None" });
}

const RESOURCE_FIELDS = ["title", "kind", "url", "author", "alt_text", "category", "status"];

function editResource(resource) {
  editingResource = resource;
  for (const field of RESOURCE_FIELDS) $(`rs-${field}`).value = resource[field] || "";
  $("rs-featured").checked = Boolean(resource.is_featured);
  $("rs-submit").textContent = "Save resource";
  $("rs-title").focus();
}

$("resources-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  fieldErrors([]);
  fail("");
  const body = { is_featured: $("rs-featured").checked };
  for (const field of RESOURCE_FIELDS) body[field] = $(`rs-${field}`).value || (field === "category" ? null : "");
  try {
    const path = editingResource ? `/resources/${encodeURIComponent(editingResource.id)}` : null;
    if (path) await call("PATCH", path, { ...body, version: editingResource.version });
    else await call("POST", "/resources", body);
    say(`Resource ${body.title} saved.`);
    editingResource = null;
    $("resources-form").reset();
    $("rs-submit").textContent = "Add resource";
    await loadResources();
  } catch (error) {
    report(error, "rs-");
    if (error.status === 409) await loadResources(); // the list shows the version saved meanwhile
  }
});

// --- announcements ---------------------------------------------------------------------------

async function loadBroadcasts() {
  const page = await call("GET", "/admin/notifications?limit=50");
  const list = $("broadcasts");
  list.replaceChildren();
  for (const broadcast of page.items) {
    const item = el("li");
    item.append(el("strong", broadcast.title), el("span", ` — ${broadcast.status}, ${broadcast.send_at || broadcast.created_at || ""}`));
    if (broadcast.status === "scheduled") {
      const withdraw = el("button", "Withdraw", { type: "button", "aria-label": `Withdraw ${broadcast.title}` });
      withdraw.addEventListener("click", () =>
        act(async () => {
          await call("DELETE", `/admin/notifications/${encodeURIComponent(broadcast.id)}`);
          await loadBroadcasts();
        }, `${broadcast.title} withdrawn.`),
      );
      item.append(" ", withdraw);
    }
    list.append(item);
  }
}

$("nt-body").addEventListener("input", () => $("nt-preview").replaceChildren(markdown($("nt-body").value)));

$("notifications-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  fieldErrors([]);
  fail("");
  const role = $("nt-audience").value;
  const body = {
    title: $("nt-title").value,
    body: $("nt-body").value,
    kind: $("nt-kind").value,
    audience: role ? { role } : { all: true },
    email: $("nt-email").checked,
  };
  if ($("nt-send-at").value) body.send_at = new Date($("nt-send-at").value).toISOString();
  try {
    await call("POST", "/admin/notifications", body);
    say(`Announcement "${body.title}" ${body.send_at ? "scheduled" : "sent"}.`);
    $("notifications-form").reset();
    $("nt-preview").replaceChildren();
    await loadBroadcasts();
  } catch (error) {
    report(error, "nt-");
  }
});

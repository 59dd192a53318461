// Small DOM helpers: elements, forms whose errors show next to the field the API names,
// and lists paged with the API's cursor. Nothing here writes HTML strings or inline styles
// (the Content-Security-Policy forbids inline style; text is always set as text).

import { api, withQuery, ApiError } from "./api.js";

// h("p", {class: "x", onclick: f}, "text", child, ...)
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else if (v === true) el.setAttribute(k, "");
    else el.setAttribute(k, v);
  }
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

let ids = 0;
const uid = (name) => `f-${name}-${++ids}`;

// A form: fields [{name, label, type, value, required, autocomplete, options, hint}],
// `submit` its button's text; `onSubmit(values)` may throw an ApiError, whose `fields`
// are shown beside the inputs they name and whose message above the button otherwise.
export function form({ fields, submit, onSubmit, id }) {
  const inputs = {};
  const errors = {};
  const general = h("p", { class: "error", role: "alert", hidden: true });
  const button = h("button", { type: "submit", class: "primary" }, submit);
  const el = h("form", { id, novalidate: true });
  for (const f of fields) {
    const fid = uid(f.name);
    const err = h("p", { class: "field-error", id: `${fid}-error`, hidden: true });
    let input;
    if (f.type === "select") {
      input = h("select", { id: fid, name: f.name },
        f.options.map(([v, text]) => h("option", { value: v, selected: v === f.value }, text)));
    } else if (f.type === "checkbox") {
      input = h("input", { id: fid, name: f.name, type: "checkbox", checked: !!f.value });
    } else {
      input = h(f.type === "textarea" ? "textarea" : "input", {
        id: fid, name: f.name, type: f.type === "textarea" ? undefined : (f.type || "text"),
        autocomplete: f.autocomplete || "off", required: f.required, inputmode: f.inputmode,
        "aria-describedby": `${fid}-error`,
      });
      if (f.value !== undefined && f.value !== null) input.value = f.value;
    }
    inputs[f.name] = input;
    errors[f.name] = err;
    el.append(h("div", { class: f.type === "checkbox" ? "field check" : "field" },
      h("label", { for: fid }, f.label), input, f.hint ? h("p", { class: "hint" }, f.hint) : null, err));
  }
  el.append(general, h("div", { class: "actions" }, button));
  el.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    for (const e of Object.values(errors)) { e.hidden = true; e.textContent = ""; }
    for (const i of Object.values(inputs)) i.removeAttribute("aria-invalid");
    general.hidden = true;
    const values = {};
    for (const [k, i] of Object.entries(inputs)) values[k] = i.type === "checkbox" ? i.checked : i.value;
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
    try {
      await onSubmit(values);
    } catch (e) {
      showError(e, inputs, errors, general);
    } finally {
      button.disabled = false;
      button.removeAttribute("aria-busy");
    }
  });
  el.inputs = inputs;
  return el;
}

function showError(e, inputs, errors, general) {
  if (!(e instanceof ApiError)) { general.textContent = String(e); general.hidden = false; return; }
  let placed = false;
  for (const f of e.fields) {
    if (errors[f.name]) {
      errors[f.name].textContent = f.message;
      errors[f.name].hidden = false;
      inputs[f.name].setAttribute("aria-invalid", "true");
      if (!placed) inputs[f.name].focus();
      placed = true;
    }
  }
  if (!placed || e.fields.length === 0) {
    general.textContent = e.message;
    general.hidden = false;
  }
}

// An error shown in place of a page's content or beside a button.
export function errorBox(e) {
  return h("p", { class: "error", role: "alert" }, e instanceof ApiError ? e.message : String(e));
}

// A notice for a secret shown once, with a copy button.
export function secret(label, value, warning) {
  const code = h("code", { class: "secret", tabindex: "0" }, value);
  const status = h("span", { class: "hint", role: "status" });
  const copy = h("button", { type: "button", onclick: async () => {
    try { await navigator.clipboard.writeText(value); status.textContent = "Copied."; }
    catch (e) { status.textContent = "Select the text and copy it."; }
  } }, "Copy");
  return h("div", { class: "notice" }, h("p", {}, h("strong", {}, label)), code,
    h("div", { class: "actions" }, copy, status), h("p", { class: "warning" }, warning));
}

// Offers `text` as a file download.
export function download(name, text, type = "text/plain") {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = h("a", { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

// A table of `path`'s items paged with the API's cursor (`after` = the last id shown).
// columns: [[heading, item => text or node]]; actions(item, reload) => [nodes].
export function pagedTable({ path, columns, actions, limit = 20, filters = {}, caption }) {
  const wrap = h("div", { class: "list" });
  const stack = []; // the `after` of each earlier page
  let after;
  async function load() {
    let page;
    try {
      page = await api("GET", withQuery(path, { limit, after, ...filters }));
    } catch (e) {
      wrap.replaceChildren(errorBox(e));
      return;
    }
    const rows = (page.data || []).map((item) => h("tr", {},
      columns.map(([, cell]) => h("td", {}, cell(item))),
      actions ? h("td", { class: "row-actions" }, actions(item, load)) : null));
    const table = h("table", {},
      caption ? h("caption", {}, caption) : null,
      h("thead", {}, h("tr", {}, columns.map(([name]) => h("th", { scope: "col" }, name)),
        actions ? h("th", { scope: "col" }, "Actions") : null)),
      h("tbody", {}, rows.length ? rows : h("tr", {}, h("td", { colspan: columns.length + 1 }, "Nothing here yet."))));
    const prev = h("button", { type: "button", disabled: stack.length === 0, onclick: () => { after = stack.pop(); load(); } }, "Previous page");
    const next = h("button", { type: "button", disabled: !page.has_more, onclick: () => {
      stack.push(after);
      after = page.data[page.data.length - 1].id;
      load();
    } }, "Next page");
    wrap.replaceChildren(h("div", { class: "table-scroll" }, table), h("div", { class: "pager" }, prev, next,
      h("span", { class: "hint" }, page.total_count !== undefined ? `${page.total_count} in all` : "")));
  }
  wrap.reload = () => { stack.length = 0; after = undefined; return load(); };
  wrap.setFilters = (f) => { filters = f; return wrap.reload(); };
  load();
  return wrap;
}

// A button that runs `action` after an in-page confirmation (no blocking dialog): the
// first press asks `question` beside it; errors show there too.
// `subject` names what it acts on, for screen readers (e.g. "Delete" of "a@b.example").
export function danger(text, question, action, subject) {
  const box = h("span", { class: "confirm" });
  const first = h("button", { type: "button", class: "danger", "aria-label": subject ? `${text} ${subject}` : undefined, onclick: () => ask() }, text);
  function ask() {
    const yes = h("button", { type: "button", class: "danger", onclick: async () => {
      yes.disabled = true;
      try { await action(); reset(); } catch (e) { box.replaceChildren(h("span", { class: "field-error", role: "alert" }, e.message), first); }
    } }, `Yes, ${text.toLowerCase()}`);
    const no = h("button", { type: "button", onclick: () => { reset(); first.focus(); } }, "Cancel");
    box.replaceChildren(h("span", { role: "alert" }, question), yes, no);
    yes.focus();
  }
  function reset() { box.replaceChildren(first); }
  reset();
  return box;
}

export function page(title, ...children) {
  document.title = `${title} · iamd console`;
  return h("section", { "aria-labelledby": "page-title" }, h("h1", { id: "page-title" }, title), ...children);
}

// The policy groups of one API key or user (admins): the groups it is in, each with a
// remove button, and the other groups of the account to add it to. Keys and users share
// the API's shape: GET, POST and DELETE `<base>/groups` with a list of group ids.

import { api } from "../api.js";
import { h, errorBox, danger } from "../ui.js";

// `base`: `/v3/api-keys/{id}` or `/v3/users/{id}`; `name`: what the panel is about.
export async function memberships(base, name) {
  const box = h("div", { id: "memberships", "aria-live": "polite" });
  async function load() {
    let mine, all;
    try {
      [mine, all] = await Promise.all([api("GET", `${base}/groups?limit=1000`), api("GET", "/v3/policy-groups?limit=1000")]);
    } catch (e) { box.replaceChildren(errorBox(e)); return; }
    const inside = new Set(mine.data.map((g) => g.id));
    const rows = mine.data.map((g) => h("tr", {}, h("td", {}, g.name),
      h("td", { class: "row-actions" }, danger("Remove", `Take ${name} out of ${g.name}?`, async () => {
        await api("DELETE", `${base}/groups`, [g.id]);
        await load();
      }, `from ${g.name}`))));
    const others = all.data.filter((g) => !inside.has(g.id));
    const pick = h("select", { id: "memberships-group" }, others.map((g) => h("option", { value: g.id }, g.name)));
    const err = h("p", { class: "field-error", role: "alert" });
    const add = h("button", { type: "button", id: "memberships-add", class: "primary", onclick: async () => {
      err.textContent = "";
      try {
        await api("POST", `${base}/groups`, [pick.value]);
        await load();
        box.querySelector("#memberships-group, #memberships-add")?.focus();
      } catch (e) { err.textContent = e.message; }
    } }, "Add to the group");
    box.replaceChildren(h("h2", {}, `Groups of ${name}`),
      h("div", { class: "table-scroll" }, h("table", {}, h("caption", {}, `Groups ${name} is in`),
        h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Group"), h("th", { scope: "col" }, "Actions"))),
        h("tbody", {}, rows.length ? rows : h("tr", {}, h("td", { colspan: 2 }, "In no group."))))),
      others.length
        ? h("div", { class: "field" }, h("label", { for: "memberships-group" }, `Add ${name} to`), pick,
          h("div", { class: "actions" }, add), err)
        : h("p", { class: "hint" }, "It is in every group of the account."));
  }
  await load();
  return box;
}

// Users: list with search and status filter, create, edit, deactivate, delete, groups
// (the actions only for admins, as the API allows them only to admins). Invitations have
// their own page (invitations.js).

import { api, session } from "../api.js";
import { h, form, page, pagedTable, danger, errorBox } from "../ui.js";
import { memberships } from "./memberships.js";

export function render() {
  const admin = session.admin;
  const base = "/v3/users";
  const table = pagedTable({
    path: base,
    caption: "Users of the account",
    columns: [
      ["Email", (u) => u.email],
      ["Username", (u) => u.username || ""],
      ["Name", (u) => u.full_name || ""],
      ["Status", (u) => u.status],
    ],
    actions: admin ? (u, reload) => [
      h("button", { type: "button", onclick: () => edit(u, reload) }, `Edit ${u.email}`),
      h("button", { type: "button", "aria-label": `Groups of ${u.email}`, onclick: () => openGroups(u) }, "Groups"),
      u.status === "ACTIVE" && u.id !== session.me.id ? danger("Deactivate", `Deactivate ${u.email}? Their sessions end at once.`, async () => {
        await api("PUT", `${base}/${u.id}`, { status: "INACTIVE" }); reload();
      }, u.email) : null,
      u.is_totp_enabled ? danger("Reset TOTP", `Turn two-factor sign-in off for ${u.email}? They can set it up again.`, async () => {
        await api("PUT", `${base}/${u.id}`, { is_totp_enabled: false }); reload();
      }, u.email) : null,
      u.id !== session.me.id ? danger("Delete", `Delete ${u.email}?`, async () => { await api("DELETE", `${base}/${u.id}`); reload(); }, u.email) : null,
    ] : undefined,
  });
  const editor = h("div", { id: "user-editor" });
  async function openGroups(u) {
    try { editor.replaceChildren(await memberships(`${base}/${u.id}`, u.email)); } catch (e) { editor.replaceChildren(errorBox(e)); }
    editor.querySelector("h2")?.setAttribute("tabindex", "-1");
    editor.querySelector("h2")?.focus();
  }
  function edit(u, reload) {
    editor.replaceChildren(h("h2", {}, `Edit ${u.email}`), form({
      id: "edit-user-form",
      submit: "Save",
      fields: [
        { name: "full_name", label: "Full name", value: u.full_name || "" },
        { name: "username", label: "Username", value: u.username || "" },
        { name: "phone_number", label: "Phone number", value: u.phone_number || "" },
        { name: "status", label: "Status", type: "select", value: u.status, options: [["ACTIVE", "Active"], ["INACTIVE", "Inactive"], ["RESET", "Reset (must set a password)"]] },
      ],
      onSubmit: async (v) => {
        await api("PUT", `${base}/${u.id}`, v);
        editor.replaceChildren(h("p", { role: "status" }, `Saved ${u.email}.`));
        reload();
      },
    }));
    editor.querySelector("input").focus();
  }
  const search = form({
    id: "user-search",
    submit: "Search",
    fields: [
      { name: "email__eq", label: "Email is", type: "email" },
      { name: "status__eq", label: "Status", type: "select", value: "", options: [["", "Any"], ["ACTIVE", "Active"], ["INACTIVE", "Inactive"], ["RESET", "Reset"], ["INVITED", "Invited"]] },
    ],
    onSubmit: (v) => table.setFilters(v),
  });
  const parts = [search, table, editor];
  if (admin) {
    parts.push(h("h2", {}, "Create a user"), form({
      id: "create-user-form",
      submit: "Create the user",
      fields: [
        { name: "email", label: "Email", type: "email", required: true },
        { name: "username", label: "Username (optional)" },
        { name: "full_name", label: "Full name (optional)" },
        { name: "password", label: "Password (optional: without one the user gets an email to set it)", type: "password", autocomplete: "new-password" },
      ],
      onSubmit: async (v) => {
        const body = {};
        for (const [k, x] of Object.entries(v)) if (x.trim()) body[k] = x.trim();
        await api("POST", base, body);
        table.reload();
      },
    }), h("p", {}, h("a", { href: "#/invitations" }, "Invite a person by email")));
  }
  return page("Users", ...parts);
}

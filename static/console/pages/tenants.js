// Tenants (aggregator admins): list, create or enroll (`action=enroll`: the tenant's admin
// finishes by email, on the console's invitation page), and manage a tenant's users and
// identity providers through the `/v3/accounts/{id}/...` routes.

import { api } from "../api.js";
import { h, form, page, pagedTable, danger, secret } from "../ui.js";
import { providers } from "./idp.js";

export function render() {
  const detail = h("div", { id: "tenant-detail" });
  const table = pagedTable({
    path: "/v3/accounts",
    caption: "Tenant accounts",
    columns: [["Name", (a) => a.display_name || ""], ["Id", (a) => a.id], ["Status", (a) => a.status]],
    actions: (a) => [h("button", { type: "button", onclick: () => open(a) }, `Users of ${a.display_name || a.id}`),
      h("button", { type: "button", onclick: () => openProviders(a) }, `Identity providers of ${a.display_name || a.id}`)],
  });
  const created = h("div", { id: "tenant-created", "aria-live": "polite" });
  function focusDetail() {
    const heading = detail.querySelector("h2");
    heading.setAttribute("tabindex", "-1");
    heading.focus();
  }
  function openProviders(a) {
    detail.replaceChildren(h("h2", {}, `Identity providers of ${a.display_name || a.id}`),
      ...providers(`/v3/accounts/${a.id}/identity-providers`, { id: "tenant-idp-form", admin: true }));
    focusDetail();
  }
  function open(a) {
    const base = `/v3/accounts/${a.id}/users`;
    const users = pagedTable({
      path: base,
      caption: `Users of ${a.display_name || a.id}`,
      columns: [["Email", (u) => u.email], ["Status", (u) => u.status]],
      actions: (u, reload) => [danger("Delete", `Delete ${u.email}?`, async () => { await api("DELETE", `${base}/${u.id}`); reload(); }, u.email)],
    });
    detail.replaceChildren(h("h2", {}, `Users of ${a.display_name || a.id}`), users, form({
      id: "tenant-user-form",
      submit: "Create the user in the tenant",
      fields: [
        { name: "email", label: "Email", type: "email", required: true },
        { name: "password", label: "Password (optional)", type: "password", autocomplete: "new-password" },
      ],
      onSubmit: async (v) => {
        const body = { email: v.email.trim() };
        if (v.password) body.password = v.password;
        await api("POST", base, body);
        users.reload();
      },
    }));
    focusDetail();
  }
  const create = form({
    id: "create-tenant-form",
    submit: "Create the tenant",
    fields: [
      { name: "display_name", label: "Tenant name", required: true },
      { name: "admin_email", label: "Admin email", type: "email", required: true },
      { name: "end_market", label: "End market", value: "IT" },
      { name: "enroll", label: "Enroll: the admin chooses a password from a link sent by email", type: "checkbox" },
    ],
    onSubmit: async (v) => {
      const body = { display_name: v.display_name.trim(), admin_email: v.admin_email.trim(), end_market: v.end_market.trim() };
      const a = await api("POST", v.enroll ? "/v3/accounts?action=enroll" : "/v3/accounts", body);
      created.replaceChildren(h("p", { role: "status", class: "notice" }, v.enroll
        ? `${a.display_name} is enrolled: ${a.admin_email} gets an email with a link to finish.`
        : `${a.display_name} is created with ${a.admin_email} as its admin.`),
      a.admin_key ? secret("The API key of the tenant's admin", a.admin_key, "Copy it now: it is shown only this once.") : null,
      a.admin_password ? secret("The generated password of the tenant's admin", a.admin_password, "Copy it now: it is shown only this once.") : null);
      create.reset();
      table.reload();
    },
  });
  return page("Tenants", h("h2", {}, "Create a tenant"), create, created, table, detail);
}

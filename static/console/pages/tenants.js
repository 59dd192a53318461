// Tenants (aggregator admins): list, create, and manage a tenant's users through the
// `/v3/accounts/{id}/...` routes.

import { api } from "../api.js";
import { h, form, page, pagedTable, danger } from "../ui.js";

export function render() {
  const detail = h("div", { id: "tenant-detail" });
  const table = pagedTable({
    path: "/v3/accounts",
    caption: "Tenant accounts",
    columns: [["Name", (a) => a.display_name || ""], ["Id", (a) => a.id], ["Status", (a) => a.status]],
    actions: (a) => [h("button", { type: "button", onclick: () => open(a) }, `Users of ${a.display_name || a.id}`)],
  });
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
  }
  const create = form({
    id: "create-tenant-form",
    submit: "Create the tenant",
    fields: [
      { name: "display_name", label: "Tenant name", required: true },
      { name: "admin_email", label: "Admin email", type: "email", required: true },
      { name: "end_market", label: "End market", value: "IT" },
    ],
    onSubmit: async (v) => {
      await api("POST", "/v3/accounts", { display_name: v.display_name.trim(), admin_email: v.admin_email.trim(), end_market: v.end_market.trim() });
      create.reset();
      table.reload();
    },
  });
  return page("Tenants", h("h2", {}, "Create a tenant"), create, table, detail);
}

// Policy groups and their members, users and API keys (changes for admins only).

import { api, session } from "../api.js";
import { h, form, page, pagedTable, danger, errorBox } from "../ui.js";

export function render() {
  const members = h("div", { id: "group-members" });
  const table = pagedTable({
    path: "/v3/policy-groups",
    caption: "Policy groups",
    columns: [["Name", (g) => g.name], ["Users", (g) => String(g.user_count ?? "")], ["API keys", (g) => String(g.apikey_count ?? "")]],
    actions: (g, reload) => [
      h("button", { type: "button", onclick: () => show(g).catch((e) => members.replaceChildren(errorBox(e))) }, `Members of ${g.name}`),
      session.admin && g.name !== "Administrators"
        ? danger("Delete", `Delete the group ${g.name}?`, async () => { await api("DELETE", `/v3/policy-groups/${g.id}`); reload(); }, g.name) : null,
    ],
  });
  async function show(g) {
    const users = pagedTable({
      path: `/v3/policy-groups/${g.id}/users`,
      caption: `Users in ${g.name}`,
      columns: [["Email", (u) => u.email], ["Status", (u) => u.status]],
      actions: session.admin ? (u, reload) => [danger("Remove", `Remove ${u.email} from ${g.name}?`, async () => {
        await api("DELETE", `/v3/policy-groups/${g.id}/users`, [u.id]); reload(); table.reload();
      }, u.email)] : undefined,
    });
    const parts = [h("h2", {}, `Members of ${g.name}`), users];
    if (session.admin) {
      parts.push(form({
        id: "add-member-form",
        submit: "Add to the group",
        fields: [{ name: "email", label: "Email of the user to add", type: "email", required: true }],
        onSubmit: async (v) => {
          const found = await api("GET", `/v3/users?email__eq=${encodeURIComponent(v.email.trim())}`);
          if (!found.data.length) throw new Error("No user has that email.");
          await api("POST", `/v3/policy-groups/${g.id}`, { users: [found.data[0].id] });
          users.reload();
          table.reload();
        },
      }));
    }
    const keys = pagedTable({
      path: `/v3/policy-groups/${g.id}/api-keys`,
      caption: `API keys in ${g.name}`,
      columns: [["Name", (k) => k.name], ["Key id", (k) => k.id]],
      actions: session.admin ? (k, reload) => [danger("Remove", `Remove the key ${k.name} from ${g.name}?`, async () => {
        await api("DELETE", `/v3/policy-groups/${g.id}/api-keys`, [k.id]); reload(); table.reload();
      }, k.name)] : undefined,
    });
    parts.push(h("div", { id: "group-keys" }, keys));
    if (session.admin) {
      const all = await api("GET", "/v3/api-keys?limit=1000");
      if (all.data.length) {
        parts.push(form({
          id: "add-key-form",
          submit: "Add the key to the group",
          fields: [{ name: "apikey", label: "API key to add", type: "select", options: all.data.map((k) => [k.id, `${k.name} (${k.id})`]) }],
          onSubmit: async (v) => {
            await api("POST", `/v3/policy-groups/${g.id}`, { apikeys: [v.apikey] });
            keys.reload();
            table.reload();
          },
        }));
      }
    }
    members.replaceChildren(...parts);
    members.querySelector("h2").setAttribute("tabindex", "-1");
    members.querySelector("h2").focus();
  }
  const parts = [table, members];
  if (session.admin) {
    parts.unshift(h("h2", {}, "Create a group"), form({
      id: "create-group-form",
      submit: "Create the group",
      fields: [{ name: "name", label: "Group name", required: true }],
      onSubmit: async (v) => { await api("POST", "/v3/policy-groups", { name: v.name.trim() }); table.reload(); },
    }));
  }
  return page("Groups", ...parts);
}

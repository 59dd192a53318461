// API keys: the caller's own (everyone) and the account's (admins); create with the secret
// shown once, reset the secret, delete; admins move keys in and out of groups.

import { api, session } from "../api.js";
import { h, form, page, pagedTable, danger, secret, errorBox } from "../ui.js";
import { memberships } from "./memberships.js";

export function render() {
  const shown = h("div", { id: "new-key", "aria-live": "polite" });
  const groups = h("div", { id: "key-groups" });
  const openGroups = async (k) => {
    try { groups.replaceChildren(await memberships(`/v3/api-keys/${k.id}`, k.name)); } catch (e) { groups.replaceChildren(errorBox(e)); }
    groups.querySelector("h2")?.setAttribute("tabindex", "-1");
    groups.querySelector("h2")?.focus();
  };
  const table = pagedTable({
    path: "/v3/api-keys",
    filters: session.admin ? {} : { owner__eq: session.me.id },
    caption: "API keys",
    columns: [["Name", (k) => k.name], ["Key id", (k) => k.id], ["Status", (k) => k.status || ""], ["Last used", (k) => k.last_login_time ? new Date(k.last_login_time).toISOString() : "never"]],
    actions: (k, reload) => (session.admin || k.owner === session.me.id)
      ? [session.admin ? h("button", { type: "button", "aria-label": `Groups of ${k.name}`, onclick: () => openGroups(k) }, "Groups") : null,
        danger("Reset secret", `Replace the secret of ${k.name}? Clients using the old one stop working.`, async () => {
        const r = await api("POST", `/v3/api-keys/${k.id}/reset-secret`);
        shown.replaceChildren(secret(`The new secret of ${k.name}`, r.key,
          "Copy it now: it is shown only this once, and iamd keeps only its digest."));
      }, k.name), danger("Delete", `Delete the key ${k.name}? Clients using it stop working.`, async () => { await api("DELETE", `/v3/api-keys/${k.id}`); reload(); }, k.name)]
      : [],
  });
  const create = form({
    id: "create-key-form",
    submit: "Create the key",
    fields: [{ name: "name", label: "Name of the new key", required: true }],
    onSubmit: async (v) => {
      const k = await api("POST", "/v3/api-keys", { name: v.name.trim(), owner: session.admin ? undefined : session.me.id });
      shown.replaceChildren(secret(`The secret of ${k.name}`, k.key,
        "Copy it now: it is shown only this once, and iamd keeps only its digest."));
      create.reset();
      table.reload();
    },
  });
  return page("API keys", h("h2", {}, "Create a key"), create, shown, table, groups);
}

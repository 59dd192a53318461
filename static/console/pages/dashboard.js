// The dashboard: the account, counts of what it holds, the latest notifications.

import { api, session } from "../api.js";
import { h, page } from "../ui.js";

async function count(path) {
  try {
    const r = await api("GET", `${path}?limit=2&include=total_count`);
    return r.total_count !== undefined ? String(r.total_count) : "?";
  } catch (e) {
    return "—";
  }
}

export async function render() {
  const a = session.account;
  const me = session.me;
  const [users, keys, groups] = await Promise.all([count("/v3/users"), count("/v3/api-keys"), count("/v3/policy-groups")]);
  const facts = [
    ["Account", a.display_name || a.company || a.id],
    ["Account id", a.id],
    ["Alias", (a.aliases || []).join(", ") || "—"],
    ["Status", a.status],
    ["Signed in as", `${me.full_name || me.username || me.email} (${me.email})`],
    ["Role", session.admin ? "Administrator" : "User"],
    ["Users", users],
    ["API keys", keys],
    ["Groups", groups],
  ];
  const list = h("dl", { class: "facts", id: "account-facts" }, facts.map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]));
  const recent = h("div");
  if (session.admin) {
    try {
      const n = await api("GET", "/v3/accounts/me/notifications?limit=5&order=DESC");
      recent.append(h("h2", {}, "Recent notifications"),
        n.data.length ? h("ul", {}, n.data.map((x) => h("li", {}, `${x.created_at || ""} ${x.type || ""} to ${x.receiver || ""} ${x.subject || ""}`)))
          : h("p", { class: "hint" }, "None yet."));
    } catch (e) { /* not offered to this user */ }
  }
  return page("Dashboard", list, recent);
}

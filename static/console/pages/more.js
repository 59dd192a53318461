// Trusted certificates, identity providers, the notification log and the server
// credentials: lists with the API's cursor, and the actions admins may take.

import { api, session } from "../api.js";
import { h, form, page, pagedTable, danger, errorBox } from "../ui.js";
import { providers } from "./idp.js";

export function trustedCertificates() {
  const table = pagedTable({
    path: "/v3/trusted-certificates",
    caption: "Trusted certificates",
    columns: [["Name", (c) => c.name], ["Service", (c) => c.service], ["Status", (c) => c.status], ["Valid until", (c) => c.validity || ""]],
    actions: session.admin ? (c, reload) => [
      c.status === "ACTIVE"
        ? danger("Deactivate", `Deactivate ${c.name}? Devices signed by it cannot connect.`, async () => {
          await api("PUT", `/v3/trusted-certificates/${c.id}`, { status: "INACTIVE" }); reload();
        }, c.name)
        : h("button", { type: "button", onclick: async () => { await api("PUT", `/v3/trusted-certificates/${c.id}`, { status: "ACTIVE" }); reload(); } }, `Activate ${c.name}`),
      danger("Delete", `Delete ${c.name}?`, async () => { await api("DELETE", `/v3/trusted-certificates/${c.id}`); reload(); }, c.name),
    ] : undefined,
  });
  const parts = [table];
  if (session.admin) {
    parts.unshift(h("h2", {}, "Upload a certificate"), form({
      id: "trusted-cert-form",
      submit: "Upload",
      fields: [
        { name: "name", label: "Name", required: true },
        { name: "service", label: "Service", type: "select", value: "lwm2m", options: [["lwm2m", "LwM2M"], ["bootstrap", "Bootstrap"]] },
        { name: "certificate", label: "Certificate (PEM)", type: "textarea", required: true },
        { name: "description", label: "Description (optional)" },
      ],
      onSubmit: async (v) => {
        const body = { name: v.name.trim(), service: v.service, certificate: v.certificate.trim() };
        if (v.description.trim()) body.description = v.description.trim();
        await api("POST", "/v3/trusted-certificates", body);
        table.reload();
      },
    }));
  }
  return page("Trusted certificates", ...parts);
}

export function identityProviders() {
  return page("Identity providers", ...providers("/v3/identity-providers", { id: "idp-form" }));
}

export function notifications() {
  return page("Notifications", pagedTable({
    path: "/v3/accounts/me/notifications",
    filters: { order: "DESC" },
    caption: "Emails sent by the account",
    columns: [["Sent", (n) => n.created_at || ""], ["Type", (n) => n.type || ""], ["To", (n) => n.receiver || ""], ["Subject", (n) => n.subject || ""], ["Delivered", (n) => (n.success ? "yes" : "no")]],
  }));
}

export async function serverCredentials() {
  let c;
  try { c = await api("GET", "/v3/server-credentials"); } catch (e) { return page("Server credentials", errorBox(e)); }
  const one = (title, x) => [h("h2", {}, title), h("dl", { class: "facts" }, h("dt", {}, "URL"), h("dd", {}, h("code", {}, x.url))),
    h("pre", { class: "pem", tabindex: "0", "aria-label": `${title} certificate` }, x.certificate)];
  return page("Server credentials", one("Bootstrap server", c.bootstrap), one("LwM2M server", c.lwm2m));
}

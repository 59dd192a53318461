// Identity providers of an account (`base`: /v3/identity-providers, or a tenant's
// /v3/accounts/{id}/identity-providers): the list, and for admins deletion and a creation
// form. The API knows one type, SAML2 (there is no OIDC); the form's field names are the
// API's (`saml2_attributes.sso_endpoint`), so an ErrorResponse's `fields` land beside them.

import { api, session } from "../api.js";
import { h, form, pagedTable, danger } from "../ui.js";

const SAML = "saml2_attributes";

export function providers(base, { id, admin = session.admin } = {}) {
  const table = pagedTable({
    path: base,
    caption: "Identity providers",
    columns: [["Name", (p) => p.name], ["Type", (p) => p.type], ["Status", (p) => p.status],
      ["Sign-in URL", (p) => (p[SAML] && p[SAML].sso_endpoint) || ""]],
    actions: admin ? (p, reload) => [danger("Delete", `Delete ${p.name}? Its users can no longer sign in through it.`, async () => {
      await api("DELETE", `${base}/${p.id}`); reload();
    }, p.name)] : undefined,
  });
  if (!admin) return [table];
  const create = form({
    id,
    submit: "Create the identity provider",
    fields: [
      { name: "name", label: "Name", required: true },
      { name: "type", label: "Type", type: "select", value: "SAML2", options: [["SAML2", "SAML 2.0"]] },
      { name: "description", label: "Description (optional)" },
      { name: `${SAML}.idp_entity_id`, label: "Entity id of the identity provider (optional)" },
      { name: `${SAML}.sso_endpoint`, label: "Single sign-on URL (optional)", type: "url" },
      { name: `${SAML}.slo_endpoint`, label: "Single logout URL (optional)", type: "url" },
      { name: `${SAML}.idp_x509_certs`, label: "Signing certificate, PEM (optional)", type: "textarea" },
      { name: `${SAML}.entity_descriptor`, label: "Or the provider's metadata XML, which fills the fields above (optional)", type: "textarea" },
    ],
    onSubmit: async (v) => {
      const body = { name: v.name.trim(), type: v.type };
      if (v.description.trim()) body.description = v.description.trim();
      const saml = {};
      for (const k of ["idp_entity_id", "sso_endpoint", "slo_endpoint", "entity_descriptor"]) {
        const x = v[`${SAML}.${k}`].trim();
        if (x) saml[k] = x;
      }
      const cert = v[`${SAML}.idp_x509_certs`].trim();
      if (cert) saml.idp_x509_certs = [cert];
      if (Object.keys(saml).length) body[SAML] = saml;
      await api("POST", base, body);
      create.reset();
      table.reload();
    },
  });
  return [h("h2", {}, "Add an identity provider"), create, table];
}

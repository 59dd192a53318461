// Developer certificates: create one and download its security.c content as
// mbed_cloud_dev_credentials.c (the file `mbed dm init` users put in their project).

import { api, session } from "../api.js";
import { h, form, page, pagedTable, danger, download } from "../ui.js";

const FILE = "mbed_cloud_dev_credentials.c";

export function render() {
  const result = h("div", { id: "new-certificate", "aria-live": "polite" });
  const table = pagedTable({
    path: "/v3/trusted-certificates",
    filters: { device_execution_mode__eq: 1 },
    caption: "Developer certificates",
    columns: [["Name", (c) => c.name], ["Status", (c) => c.status || ""], ["Valid until", (c) => c.validity || ""]],
    actions: (c, reload) => [
      h("button", { type: "button", onclick: async () => {
        const full = await api("GET", `/v3/developer-certificates/${c.id}`);
        if (full.security_file_content) download(FILE, full.security_file_content, "text/x-csrc");
        else result.replaceChildren(h("p", { role: "status" }, "The private key is kept only at creation: create a new certificate to get the file."));
      } }, `Download ${c.name}`),
      session.admin ? danger("Delete", `Delete ${c.name}? Devices using it stop connecting.`, async () => { await api("DELETE", `/v3/trusted-certificates/${c.id}`); reload(); }, c.name) : null,
    ],
  });
  const create = form({
    id: "create-devcert-form",
    submit: "Create the certificate",
    fields: [
      { name: "name", label: "Certificate name", required: true },
      { name: "description", label: "Description (optional)" },
    ],
    onSubmit: async (v) => {
      const body = { name: v.name.trim() };
      if (v.description.trim()) body.description = v.description.trim();
      result.replaceChildren(h("p", { role: "status" }, "Creating the key and certificate…"));
      const c = await api("POST", "/v3/developer-certificates", body);
      const get = h("button", { type: "button", class: "primary", id: "download-devcert", onclick: () => download(FILE, c.security_file_content, "text/x-csrc") }, `Download ${FILE}`);
      result.replaceChildren(h("div", { class: "notice" }, h("p", {}, `Created ${c.name}.`),
        h("p", { class: "warning" }, "The file holds the device's private key and is offered only now."), get));
      create.reset();
      table.reload();
    },
  });
  return page("Developer certificates", create, result, table);
}

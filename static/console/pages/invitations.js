// Invitations (admins): invite a person by email, send an invitation again, revoke one.
// The API has no resend: "Send again" makes a new invitation for the same email, groups and
// login profiles (a new link, a new expiry, a new email) and then revokes the old one, so
// one stays pending.

import { api } from "../api.js";
import { h, form, page, pagedTable, danger } from "../ui.js";

export function render() {
  const status = h("p", { class: "hint", role: "status" });
  const table = pagedTable({
    path: "/v3/user-invitations",
    caption: "Pending invitations",
    columns: [["Email", (i) => i.email], ["Sent", (i) => i.created_at || ""], ["Expires", (i) => i.expiration || ""]],
    actions: (i, reload) => {
      const again = h("button", { type: "button", "aria-label": `Send again to ${i.email}`, onclick: async () => {
        again.disabled = true;
        again.setAttribute("aria-busy", "true");
        try {
          const body = { email: i.email };
          if (i.groups && i.groups.length) body.groups = i.groups;
          if (i.login_profiles && i.login_profiles.length) body.login_profiles = i.login_profiles.map((p) => ({ id: p.id }));
          await api("POST", "/v3/user-invitations", body);
          await api("DELETE", `/v3/user-invitations/${i.id}`);
          status.textContent = `A new invitation is on its way to ${i.email}.`;
          reload();
        } catch (e) {
          status.textContent = e.message;
          again.disabled = false;
          again.removeAttribute("aria-busy");
        }
      } }, "Send again");
      return [again, danger("Revoke", `Revoke the invitation of ${i.email}? Its link stops working.`, async () => {
        await api("DELETE", `/v3/user-invitations/${i.id}`);
        status.textContent = `The invitation of ${i.email} is revoked.`;
        reload();
      }, i.email)];
    },
  });
  const invite = form({
    id: "invite-form",
    submit: "Send the invitation",
    fields: [
      { name: "email", label: "Email to invite", type: "email", required: true },
      { name: "valid_for_days", label: "Days the link is valid (1 to 100; 30 when empty)", inputmode: "numeric" },
    ],
    onSubmit: async (v) => {
      const body = { email: v.email.trim() };
      const days = v.valid_for_days.trim();
      // A number when it is one; otherwise as typed, for the API to name the field.
      if (days) body.valid_for_days = /^\d+$/.test(days) ? Number(days) : days;
      await api("POST", "/v3/user-invitations", body);
      status.textContent = `Invitation sent to ${body.email}.`;
      invite.reset();
      table.reload();
    },
  });
  return page("Invitations", h("h2", {}, "Invite a person"), invite, status, table);
}

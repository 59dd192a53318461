// The pages the links of the emails open: accept an invitation (also an account
// enrollment), reset a password, verify an email address. The token is in the fragment.

import { api } from "../api.js";
import { h, form, page, errorBox } from "../ui.js";

const done = (text) => h("div", { role: "status", class: "notice" }, h("p", {}, text),
  h("p", {}, h("a", { href: "#/signin", id: "to-signin" }, "Sign in")));

export async function invitation(ctx) {
  const token = ctx.params.get("token") || "";
  let inv;
  try {
    inv = await api("GET", `/auth/invitations/${encodeURIComponent(token)}`, undefined, { anonymous: true });
  } catch (e) {
    return page("Invitation", errorBox(e.status === 404 ? "This invitation is unknown, used or expired." : e));
  }
  const out = h("div");
  const f = form({
    id: "invitation-form",
    submit: "Accept and set the password",
    fields: [
      { name: "email", label: "Email", value: inv.email, autocomplete: "username" },
      { name: "full_name", label: "Full name (optional)", autocomplete: "name" },
      { name: "username", label: "Username (optional)" },
      { name: "password", label: "Password", type: "password", autocomplete: "new-password", required: true },
    ],
    onSubmit: async (v) => {
      const body = { password: v.password };
      if (v.full_name.trim()) body.full_name = v.full_name.trim();
      if (v.username.trim()) body.username = v.username.trim();
      await api("POST", `/auth/invitations/${encodeURIComponent(token)}/accept`, body, { anonymous: true });
      out.replaceChildren(done(`Welcome. Your account ${inv.account_display_name || inv.account_id} is ready.`));
    },
  });
  f.inputs.email.readOnly = true;
  out.append(h("p", {}, `You are invited to ${inv.account_display_name || inv.account_id}.`), f);
  return page("Accept the invitation", out);
}

export function resetPassword(ctx) {
  const token = ctx.params.get("token") || "";
  const out = h("div");
  out.append(form({
    id: "reset-form",
    submit: "Set the password",
    fields: [{ name: "password", label: "New password", type: "password", autocomplete: "new-password", required: true }],
    onSubmit: async (v) => {
      await api("POST", "/auth/reset-password", { token, password: v.password }, { anonymous: true });
      out.replaceChildren(done("Your password is set."));
    },
  }));
  return page("Choose a new password", out);
}

export async function verifyEmail(ctx) {
  const token = ctx.params.get("token") || "";
  try {
    await api("POST", "/auth/verify-email", { token }, { anonymous: true });
    return page("Email verified", done("Your email address is verified."));
  } catch (e) {
    return page("Email verification", errorBox(e.status === 404 ? "This link is unknown, used or expired." : e));
  }
}

// Sign-in, forgot-password, and the steps a login may require first: a RESET user sets a
// password, a user of an account with `mfa_status: enforced` sets up TOTP.

import { api, session, load } from "../api.js";
import { h, form, page } from "../ui.js";
import { totpSetup } from "./profile.js";

// The last login's account and username, to sign in again after a required password change.
let last = null;

export async function signIn(ctx, values) {
  const body = { username: values.username.trim(), password: values.password };
  if (values.account && values.account.trim()) body.account = values.account.trim();
  if (values.otp && values.otp.trim()) body.otp = values.otp.trim();
  const login = await api("POST", "/auth/login", body, { anonymous: true });
  last = { username: body.username, account: login.account_id };
  await load(login);
  if (session.kind === "full") await ctx.applyBranding();
  ctx.go(session.kind === "full" ? "dashboard" : "finish");
}

export function render(ctx) {
  const f = form({
    id: "signin-form",
    submit: "Sign in",
    fields: [
      { name: "account", label: "Account (id or alias; optional when your email is in one account)", autocomplete: "organization" },
      { name: "username", label: "Email or username", autocomplete: "username", required: true },
      { name: "password", label: "Password", type: "password", autocomplete: "current-password", required: true },
      { name: "otp", label: "Authenticator code (only when two-factor sign-in is on)", autocomplete: "one-time-code", inputmode: "numeric" },
    ],
    onSubmit: (v) => signIn(ctx, v),
  });
  return page("Sign in", f, h("p", {}, h("a", { href: "#/forgot" }, "Forgot your password?")));
}

export function forgot() {
  const done = h("p", { role: "status", class: "hint" });
  const f = form({
    id: "forgot-form",
    submit: "Send the reset link",
    fields: [
      { name: "email", label: "Email", type: "email", autocomplete: "email", required: true },
      { name: "account", label: "Account (id or alias, optional)" },
    ],
    onSubmit: async (v) => {
      const body = { email: v.email.trim() };
      if (v.account.trim()) body.account = v.account.trim();
      await api("POST", "/auth/forgot-password", body, { anonymous: true });
      done.textContent = "If that address belongs to a user, an email with a link is on its way.";
    },
  });
  return page("Forgot your password", f, done, h("p", {}, h("a", { href: "#/signin" }, "Back to sign-in")));
}

// What the login requires before the console opens.
export function finish(ctx) {
  if (session.kind === "password") {
    const f = form({
      id: "change-password-form",
      submit: "Set the password",
      fields: [
        { name: "current_password", label: "Current password", type: "password", autocomplete: "current-password", required: true },
        { name: "new_password", label: "New password", type: "password", autocomplete: "new-password", required: true },
      ],
      onSubmit: async (v) => {
        await api("POST", "/auth/change-password", v);
        await signIn(ctx, { ...last, password: v.new_password });
      },
    });
    return page("Set a new password", h("p", {}, "Your password must be changed before you continue."), f);
  }
  return page("Set up two-factor sign-in",
    h("p", {}, "Your account requires an authenticator app. Set it up to continue."),
    totpSetup(async () => {
      await load({ token: session.token });
      await ctx.applyBranding();
      ctx.go("dashboard");
    }));
}

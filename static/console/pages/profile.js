// My profile: password change, TOTP setup (QR code drawn here from the otpauth:// URI,
// scratch codes shown once) and new scratch codes, active sessions (each but this one can
// be signed out) and login history.

import { api, session } from "../api.js";
import { h, form, page, errorBox, download, danger } from "../ui.js";
import qrcodegen from "../vendor/qrcodegen.js";

const SVG = "http://www.w3.org/2000/svg";

// The QR code of `text` as an SVG (one path; no inline style, so the CSP allows it).
export function qr(text) {
  const code = qrcodegen.QrCode.encodeText(text, qrcodegen.QrCode.Ecc.MEDIUM);
  const border = 4;
  const size = code.size + border * 2;
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", `0 0 ${size} ${size}`);
  svg.setAttribute("class", "qr");
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", "QR code for the authenticator app");
  const bg = document.createElementNS(SVG, "rect");
  bg.setAttribute("width", "100%");
  bg.setAttribute("height", "100%");
  bg.setAttribute("fill", "#ffffff");
  const parts = [];
  for (let y = 0; y < code.size; y++) {
    for (let x = 0; x < code.size; x++) {
      if (code.getModule(x, y)) parts.push(`M${x + border},${y + border}h1v1h-1z`);
    }
  }
  const path = document.createElementNS(SVG, "path");
  path.setAttribute("d", parts.join(""));
  path.setAttribute("fill", "#000000");
  svg.append(bg, path);
  return svg;
}

function scratchCodes(codes) {
  return h("div", { class: "notice", id: "scratch-codes" },
    h("p", {}, h("strong", {}, "Scratch codes")),
    h("p", { class: "warning" }, "Each works once in place of a code from the app. They are shown only now: keep them somewhere safe."),
    h("ul", { class: "codes" }, codes.map((c) => h("li", {}, h("code", {}, c)))),
    h("button", { type: "button", id: "scratch-codes-download", onclick: () => download("iamd-scratch-codes.txt", codes.join("\n") + "\n") }, "Download the codes"));
}

// Starts TOTP setup; `done` runs once it is confirmed (after the scratch codes are shown).
export function totpSetup(done) {
  const out = h("div", { id: "totp-setup" });
  const start = h("button", { type: "button", class: "primary", id: "totp-start", onclick: async () => {
    start.disabled = true;
    let setup;
    try { setup = await api("POST", "/auth/totp"); } catch (e) { out.append(errorBox(e)); start.disabled = false; return; }
    const confirm = form({
      id: "totp-confirm-form",
      submit: "Turn on two-factor sign-in",
      fields: [{ name: "otp", label: "Code from the app", autocomplete: "one-time-code", inputmode: "numeric", required: true }],
      onSubmit: async (v) => {
        const r = await api("POST", "/auth/totp/confirm", { otp: v.otp.trim() });
        const cont = h("button", { type: "button", class: "primary", id: "totp-done", onclick: done }, "Continue");
        out.replaceChildren(h("p", { role: "status" }, "Two-factor sign-in is on."), scratchCodes(r.totp_scratch_codes), cont);
      },
    });
    out.replaceChildren(
      h("p", {}, "Scan this code with an authenticator app, or enter the key by hand, then type the code it shows."),
      qr(setup.otpauth_uri),
      h("p", {}, "Key: ", h("code", { id: "totp-secret" }, setup.secret)),
      confirm);
    confirm.querySelector("input").focus();
  } }, "Set up an authenticator app");
  out.append(start);
  return out;
}

export async function render(ctx) {
  const me = await api("GET", "/v3/users/me?include=active_sessions");
  session.me = me;
  const password = form({
    id: "password-form",
    submit: "Change the password",
    fields: [
      { name: "current_password", label: "Current password", type: "password", autocomplete: "current-password", required: true },
      { name: "new_password", label: "New password", type: "password", autocomplete: "new-password", required: true },
    ],
    onSubmit: async (v) => {
      await api("POST", "/auth/change-password", v);
      password.reset();
      password.append(h("p", { role: "status" }, "Password changed. Your other sessions have ended."));
    },
  });
  const totp = me.is_totp_enabled
    ? h("div", {}, h("p", {}, "Two-factor sign-in is on."), newScratchCodes(), form({
      id: "totp-off-form",
      submit: "Turn two-factor sign-in off",
      fields: [{ name: "otp", label: "Current code from the app", autocomplete: "one-time-code", inputmode: "numeric", required: true }],
      onSubmit: async (v) => { await api("PUT", "/v3/users/me", { is_totp_enabled: false, otp: v.otp.trim() }); ctx.go("profile"); },
    }))
    : totpSetup(() => ctx.go("profile"));
  const sessions = h("div", { id: "active-sessions" });
  await showSessions(sessions, me.active_sessions || []);
  const history = (me.login_history || []).map((l) => h("tr", {},
    h("td", {}, l.date || ""), h("td", {}, l.ip_address || ""), h("td", {}, l.success ? "yes" : "no")));
  return page("My profile",
    h("dl", { class: "facts" }, h("dt", {}, "Email"), h("dd", {}, me.email), h("dt", {}, "Username"), h("dd", {}, me.username || "—"), h("dt", {}, "Status"), h("dd", {}, me.status)),
    h("h2", {}, "Password"), password,
    h("h2", {}, "Two-factor sign-in"), totp,
    h("h2", {}, "Sessions"), sessions,
    listTable("Recent sign-ins", ["When", "Address", "Succeeded"], history));
}

const listTable = (caption, heads, rows) => h("div", { class: "table-scroll" }, h("table", {}, h("caption", {}, caption),
  h("thead", {}, h("tr", {}, heads.map((x) => h("th", { scope: "col" }, x)))), h("tbody", {}, rows)));

// New scratch codes for a current code from the app (the old ones stop working).
function newScratchCodes() {
  const out = h("div", { id: "new-scratch-codes" });
  const f = form({
    id: "scratch-codes-form",
    submit: "Get new scratch codes",
    fields: [{ name: "otp", label: "Current code from the app, for new scratch codes", autocomplete: "one-time-code", inputmode: "numeric", required: true }],
    onSubmit: async (v) => {
      const r = await api("POST", "/auth/totp/scratch-codes", { otp: v.otp.trim() });
      out.replaceChildren(h("p", { role: "status" }, "New scratch codes: the old ones no longer work."), scratchCodes(r.totp_scratch_codes));
      out.querySelector("#scratch-codes-download").focus();
    },
  });
  out.append(f);
  return out;
}

// The live sessions; every one but the page's own can be signed out (the others stay).
async function showSessions(box, list) {
  let own = null;
  try { own = (await api("GET", "/console/session")).reference_token || null; } catch (e) { /* unmarked */ }
  const rows = list.map((s) => h("tr", { "data-reference": s.reference_token },
    h("td", {}, s.login_time || ""), h("td", {}, s.ip_address || ""), h("td", {}, s.user_agent || ""),
    h("td", { class: "row-actions" }, s.reference_token === own ? h("strong", {}, "This session")
      : danger("Sign out", "Sign this session out? Whoever uses it must sign in again.", async () => {
        await api("POST", "/auth/logout", { reference_token: s.reference_token });
        const me = await api("GET", "/v3/users/me?include=active_sessions");
        await showSessions(box, me.active_sessions || []);
      }, `the session signed in at ${s.login_time || ""} from ${s.ip_address || ""}`))));
  box.replaceChildren(listTable("Active sessions", ["Signed in", "Address", "Browser", "Actions"], rows));
}

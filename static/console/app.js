// The console's entry: theme and branding, the menu, and a router on the URL fragment
// (`#/users`). Fragments keep email-link tokens out of requests (see src/console/mod.rs).

import { api, session, clear, whenSignedOut, resume } from "./api.js";
import { h, errorBox } from "./ui.js";
import * as signin from "./pages/signin.js";
import * as links from "./pages/links.js";
import * as dashboard from "./pages/dashboard.js";
import * as users from "./pages/users.js";
import * as apikeys from "./pages/apikeys.js";
import * as groups from "./pages/groups.js";
import * as profile from "./pages/profile.js";
import * as devcerts from "./pages/devcerts.js";
import * as branding from "./pages/branding.js";
import * as tenants from "./pages/tenants.js";
import * as invitations from "./pages/invitations.js";
import * as more from "./pages/more.js";

// Pages anyone may open (no session).
const PUBLIC = {
  signin: signin.render,
  forgot: signin.forgot,
  invitation: links.invitation,
  "reset-password": links.resetPassword,
  "verify-email": links.verifyEmail,
};

// Signed-in pages: [route, menu text, render, shown when].
const PAGES = [
  ["dashboard", "Dashboard", dashboard.render, () => true],
  ["users", "Users", users.render, () => true],
  ["invitations", "Invitations", invitations.render, () => session.admin],
  ["api-keys", "API keys", apikeys.render, () => true],
  ["groups", "Groups", groups.render, () => true],
  ["developer-certificates", "Developer certificates", devcerts.render, () => true],
  ["trusted-certificates", "Trusted certificates", more.trustedCertificates, () => true],
  ["server-credentials", "Server credentials", more.serverCredentials, () => true],
  ["identity-providers", "Identity providers", more.identityProviders, () => true],
  ["notifications", "Notifications", more.notifications, () => session.admin],
  ["branding", "Branding", branding.render, () => session.admin],
  ["tenants", "Tenants", tenants.render, () => session.aggregator],
  ["profile", "My profile", profile.render, () => true],
];

// -- theme --
const media = window.matchMedia("(prefers-color-scheme: dark)");
let chosenTheme = null; // null: follow the browser

export function theme() {
  return chosenTheme || (media.matches ? "dark" : "light");
}

// Every color of the branding as a custom property named after its reference.
export async function applyBranding() {
  const t = theme();
  document.documentElement.dataset.theme = t;
  const toggle = document.getElementById("theme-toggle");
  toggle.textContent = t === "dark" ? "Light theme" : "Dark theme";
  toggle.setAttribute("aria-pressed", String(t === "dark"));
  const root = document.documentElement.style;
  try {
    if (session.me) {
      const colors = await api("GET", `/v3/branding-colors/${t}`);
      for (const c of colors.data) root.setProperty(`--${c.reference}`, c.color);
      const images = await api("GET", `/v3/branding-images/${t}/brand_logo_landscape`);
      setLogo(images.static_uri);
    } else {
      const b = await api("GET", `/console/branding/${t}`, undefined, { anonymous: true });
      for (const [ref, color] of Object.entries(b.colors)) root.setProperty(`--${ref}`, color);
      setLogo(b.images.brand_logo_landscape);
    }
  } catch (e) {
    // The built-in palette of console.css stays in force.
  }
  document.documentElement.dataset.branded = t;
}

function setLogo(uri) {
  const logo = document.getElementById("logo");
  // Same origin only (the Content-Security-Policy would refuse another anyway).
  try { logo.src = new URL(uri, location.href).pathname; } catch (e) { logo.removeAttribute("src"); }
}

// -- routing --
export function go(route) {
  if (location.hash === `#/${route}`) show();
  else location.hash = `#/${route}`;
}

function current() {
  const raw = location.hash.replace(/^#\/?/, "");
  const [route, query] = raw.split("?");
  return { route: route || "", params: new URLSearchParams(query || "") };
}

function nav() {
  const el = document.getElementById("nav");
  if (!session.me) { el.replaceChildren(); return; }
  const { route } = current();
  const items = PAGES.filter(([, , , when]) => when()).map(([r, text]) =>
    h("li", {}, h("a", { href: `#/${r}`, "aria-current": r === route ? "page" : undefined }, text)));
  items.push(h("li", {}, h("button", { type: "button", id: "sign-out", onclick: signOut }, "Sign out")));
  el.replaceChildren(h("ul", {}, items));
}

export async function signOut() {
  try { await api("POST", "/auth/logout"); } catch (e) { /* the session may be gone already */ }
  try { await api("DELETE", "/console/session"); } catch (e) { /* nothing to forget */ }
  clear();
  await applyBranding();
  go("signin");
}

async function show() {
  const main = document.getElementById("main");
  const { route, params } = current();
  const ctx = { params, go, applyBranding };
  let content;
  try {
    if (PUBLIC[route]) {
      content = await PUBLIC[route](ctx);
    } else if (session.token && session.kind !== "full") {
      content = await signin.finish(ctx);
    } else if (!session.me) {
      content = await signin.render(ctx);
    } else {
      const page = PAGES.find(([r, , , when]) => r === route && when()) || PAGES[0];
      content = await page[2](ctx);
    }
  } catch (e) {
    content = errorBox(e);
  }
  nav();
  main.replaceChildren(content);
  // Focus the page's heading so keyboard and screen-reader users start at the new content.
  const heading = main.querySelector("h1");
  if (heading) { heading.setAttribute("tabindex", "-1"); heading.focus(); }
  main.dataset.route = route || "signin";
}

whenSignedOut(() => { applyBranding(); go("signin"); });
window.addEventListener("hashchange", show);
media.addEventListener("change", () => { if (!chosenTheme) applyBranding(); });
document.getElementById("theme-toggle").addEventListener("click", () => {
  chosenTheme = theme() === "dark" ? "light" : "dark";
  applyBranding();
});
// A reload: the cookie's session, if any, before the first page.
resume().then(applyBranding).then(show);

// The API client and the session. The token from the login is kept in this module's state
// and, once the sign-in is complete, handed to /console/session, which keeps it in an
// HttpOnly cookie: after a reload, requests carry the `X-IAMD-CSRF` header instead and the
// server reads the cookie (src/console/session.rs). Never in localStorage.

export const session = { token: null, me: null, account: null, admin: false, aggregator: false, kind: "full" };

// An ErrorResponse (or a network failure) as an exception the pages show.
export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.message) || `Request failed (${status}).`);
    this.status = status;
    this.body = body || {};
    this.fields = Array.isArray(this.body.fields) ? this.body.fields : [];
  }
}

let onUnauthorized = () => {};
export function whenSignedOut(fn) { onUnauthorized = fn; }

// Calls the API; resolves to the parsed JSON body (null for 204), rejects with ApiError.
export async function api(method, path, body, opts = {}) {
  const headers = { Accept: "application/json" };
  if (session.token && !opts.anonymous) headers.Authorization = `Bearer ${session.token}`;
  else if (!opts.anonymous) headers["X-IAMD-CSRF"] = "1";
  let payload;
  if (body instanceof FormData) {
    payload = body; // the browser sets the multipart Content-Type and its boundary
  } else if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    payload = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, { method, headers, body: payload, credentials: opts.anonymous ? "omit" : "same-origin", cache: "no-store" });
  } catch (e) {
    throw new ApiError(0, { message: "The server cannot be reached." });
  }
  const text = await res.text();
  let json = null;
  if (text) { try { json = JSON.parse(text); } catch (e) { json = null; } }
  if (!res.ok) {
    if (res.status === 401 && session.me && !opts.anonymous) {
      clear();
      onUnauthorized();
    }
    throw new ApiError(res.status, json);
  }
  return json;
}

// `path` with the query `params` (undefined and empty values left out).
export function withQuery(path, params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) {
    if (v !== undefined && v !== null && v !== "") q.set(k, v);
  }
  const s = q.toString();
  return s ? `${path}${path.includes("?") ? "&" : "?"}${s}` : path;
}

// After a reload: the session of the cookie, if it is still good.
export async function resume() {
  try {
    // Asked first so that a visit without a session causes no failed request.
    const state = await api("GET", "/console/session");
    if (!state.signed_in) return false;
    await load({ token: null });
    return true;
  } catch (e) {
    clear();
    return false;
  }
}

export function clear() {
  session.token = null;
  session.me = null;
  session.account = null;
  session.admin = false;
  session.aggregator = false;
  session.kind = "full";
}

// After a login: what the person is (for the pages and the menu).
export async function load(login) {
  session.token = login.token;
  session.kind = login.password_change_required ? "password" : login.totp_setup_required ? "totp" : "full";
  if (session.kind !== "full") return;
  if (session.token) await api("POST", "/console/session");
  session.me = await api("GET", "/v3/users/me");
  session.account = await api("GET", "/v3/accounts/me");
  // Rights as the API decides them: an admin is a member of the account's Administrators
  // group; only the admins of an aggregator account may list its tenants.
  const groups = await api("GET", "/v3/policy-groups?limit=1000");
  const adminGroup = (groups.data || []).find((g) => g.name === "Administrators");
  session.admin = !!adminGroup && (session.me.groups || []).includes(adminGroup.id);
  // The account's limits say whether it may have tenants ("sub_accounts": "0" if not).
  const subAccounts = session.account.limits && session.account.limits.sub_accounts;
  session.aggregator = session.admin && (subAccounts !== undefined
    ? subAccounts !== "0" : await allowed("/v3/accounts?limit=2"));
}

async function allowed(path) {
  try { await api("GET", path); return true; } catch (e) {
    if (e.status === 403) return false;
    throw e;
  }
}

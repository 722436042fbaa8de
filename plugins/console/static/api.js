// The agent API client: the session token from sessionStorage as bearer, errors as ApiError with the
// server's code. Signing in exchanges a login link's code (or an API token) for that session token.
const TOKEN_KEY = "csgw_token";

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message || code);
    this.status = status;
    this.code = code;
  }
}

export const token = () => sessionStorage.getItem(TOKEN_KEY);
export const setToken = (value) => sessionStorage.setItem(TOKEN_KEY, value);
export const clearToken = () => sessionStorage.removeItem(TOKEN_KEY);

let onUnauthorized = () => {};
export const whenUnauthorized = (handler) => { onUnauthorized = handler; };

/* `signedIn`: send the token, and treat a 401 as the session having ended. */
async function request(method, path, body, signedIn = true) {
  const headers = signedIn ? { Authorization: `Bearer ${token()}` } : {};
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(`/api/v1${path}`, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (error) {
    throw new ApiError(0, "network", error.message);
  }
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = data.error || {};
    if (response.status === 401 && signedIn) onUnauthorized();
    throw new ApiError(response.status, error.code || "http_error", error.message || response.statusText);
  }
  return data;
}

export const api = (method, path, body) => request(method, path, body);
export const get = (path) => api("GET", path);
export const post = (path, body = {}) => api("POST", path, body);

/* `{ code }` from a login link, or `{ token }` (an API token): keeps the session token it gets. */
export async function signIn(body) {
  const signed = await request("POST", "/login", body, false);
  setToken(signed.token);
  return signed.agent;
}

/* End this tab's session on the server (best effort: the tab forgets it either way). */
export async function signOut() {
  const current = token();
  clearToken();
  if (!current) return;
  await fetch("/api/v1/logout", { method: "POST", headers: { Authorization: `Bearer ${current}` } }).catch(() => {});
}

// Calls to the public /v1 API with the user's bearer key (kept in sessionStorage: entered
// once per browser session, gone when the tab's session ends).

const KEY_ITEM = "airgrid.apiKey";

/** The stored API key, or "" when none was entered. */
export function apiKey() {
  return sessionStorage.getItem(KEY_ITEM) || "";
}

/** Remember the API key for this browser session. */
export function setApiKey(key) {
  sessionStorage.setItem(KEY_ITEM, key.trim());
}

/** An error answer of the API: its status and problem+json body. */
export class ApiError extends Error {
  constructor(status, problem) {
    super((problem && (problem.detail || problem.title)) || `HTTP ${status}`);
    this.status = status;
    this.problem = problem || {};
  }
}

/** Headers of every call: the bearer key. */
export function authHeaders() {
  const key = apiKey();
  return key ? { Authorization: `Bearer ${key}` } : {};
}

/**
 * Call the API and parse its JSON answer.
 * @param {string} path  path under the server, e.g. "/v1/grid/tiers"
 * @param {object} [opts]  method, query (object), body (JSON-able)
 * @returns {Promise<any>} the parsed body; throws ApiError on 4xx/5xx
 */
export async function api(path, { method = "GET", query = null, body = undefined } = {}) {
  const url = new URL(path, window.location.origin);
  if (query) {
    for (const [k, v] of Object.entries(query)) {
      if (v === null || v === undefined || v === "") continue;
      for (const one of Array.isArray(v) ? v : [v]) url.searchParams.append(k, String(one));
    }
  }
  const headers = { Accept: "application/json, application/geo+json", ...authHeaders() };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const resp = await fetch(url, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await resp.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = { detail: text };
  }
  if (!resp.ok) throw new ApiError(resp.status, data);
  return data;
}

/** Does a URL belong to this server (so MapLibre's own requests may carry the key)? */
export function sameOrigin(url) {
  try {
    return new URL(url, window.location.origin).origin === window.location.origin;
  } catch {
    return false;
  }
}

/**
 * The operator's credential and the calls made with it. The key (or JWT) lives in sessionStorage: this tab only,
 * gone when it closes, never in a cookie, so no other site's page can make the browser send it.
 */

const STORAGE_KEY = "atomic.dashboard.credential";

export const credential = {
  get: () => sessionStorage.getItem(STORAGE_KEY),
  set: (value) => sessionStorage.setItem(STORAGE_KEY, value),
  clear: () => sessionStorage.removeItem(STORAGE_KEY),
};

/** An error answer of the gateway: its status and stable code, and its message, which is safe to show. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

let onUnauthorized = () => {};
/** Told when the gateway stops accepting the credential (revoked, expired): the page signs out. */
export function whenUnauthorized(handler) {
  onUnauthorized = handler;
}

async function call(path, signal, read) {
  const response = await fetch(path, { headers: { authorization: `Bearer ${credential.get() ?? ""}` }, cache: "no-store", signal });
  if (!response.ok) {
    let error;
    try {
      error = (await response.json()).error;
    } catch {
      error = undefined;
    }
    const failure = new ApiError(response.status, error?.code ?? `http_${response.status}`, error?.message ?? `${response.status} ${response.statusText}`);
    if (response.status === 401) onUnauthorized(failure);
    throw failure;
  }
  return read(response);
}

export const getJson = (path, signal) => call(path, signal, (response) => response.json());
export const getText = (path, signal) => call(path, signal, (response) => response.text());

/** A query string of the members that are set. */
export function query(params) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value !== undefined && value !== null && value !== "") search.set(name, String(value));
  const text = search.toString();
  return text === "" ? "" : `?${text}`;
}

/** What to show for a failed call: the gateway's code and message, or the network's failure. */
export function describeFailure(error) {
  if (error instanceof ApiError) return `${error.code}: ${error.message}`;
  return `the gateway did not answer (${error?.message ?? error})`;
}

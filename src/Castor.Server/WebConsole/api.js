// The console's one way to call the server: its own public Gemini API, with the key in x-goog-api-key (never in a URL).
const KEY_NAME = 'castor.apiKey';

/** Where the API lives: the console is served at <root>/console/, the API at <root>/v1beta. */
export const root = location.pathname.replace(/\/console(\/.*)?$/, '');

export function storedKey() {
  return sessionStorage.getItem(KEY_NAME);
}

export function storeKey(key) {
  sessionStorage.setItem(KEY_NAME, key);
}

export function forgetKey() {
  sessionStorage.removeItem(KEY_NAME);
}

/** An error answer of the API, with its status and message (the API's error shape when it has one). */
export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

async function errorOf(response) {
  let message = `${response.status} ${response.statusText}`.trim();
  try {
    const body = await response.json();
    if (body?.error?.message) message = `${body.error.status ?? response.status}: ${body.error.message}`;
  } catch {
    // Not JSON: the status line says enough.
  }
  return new ApiError(response.status, message);
}

/**
 * fetch against this server with the key. A plain object body is sent as JSON; a Blob or string as it is.
 * `url` is a path under the server's root (or a same-origin URL the API handed out, such as an upload URL).
 */
export async function call(url, { method = 'GET', body, headers = {}, signal, key = storedKey() } = {}) {
  const h = new Headers(headers);
  if (key) h.set('x-goog-api-key', key);
  if (body !== undefined && !(body instanceof Blob) && typeof body !== 'string') {
    h.set('content-type', 'application/json');
    body = JSON.stringify(body);
  }
  const response = await fetch(url.startsWith('/') ? root + url : url, {
    method, headers: h, body, signal, credentials: 'omit', cache: 'no-store', referrerPolicy: 'no-referrer',
  });
  if (!response.ok) throw await errorOf(response);
  return response;
}

export async function json(url, options) {
  const response = await call(url, options);
  const text = await response.text();
  return text ? JSON.parse(text) : {};
}

/** Every item of a paged list (`field` names the array; the API omits nextPageToken on the last page). */
export async function listAll(path, field, options) {
  const items = [];
  let token = '';
  do {
    const page = await json(`${path}?pageSize=100${token ? `&pageToken=${encodeURIComponent(token)}` : ''}`, options);
    items.push(...(page[field] ?? []));
    token = page.nextPageToken ?? '';
  } while (token);
  return items;
}

/** A same-origin URL the API returned (an upload session), as a path: the page may only talk to its own origin. */
export function sameOriginPath(url) {
  const parsed = new URL(url, location.origin);
  return parsed.pathname.slice(root.length) + parsed.search;
}

// The JSON API, same origin, authenticated by the session cookie.
export class ApiError extends Error {
  constructor(status, body) {
    const error = (body && body.error) || {};
    super(error.message || `HTTP ${status}`);
    this.status = status;
    this.code = error.code || null;
    this.details = error.details || null;
  }
}

export async function api(method, path, body) {
  const init = { method, headers: {}, credentials: "same-origin" };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(`/api/v1${path}`, init);
  if (response.status === 401 && !path.startsWith("/auth/login")) {
    window.location.assign("/app/login");
  }
  const data = response.status === 204 ? null : await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

export function query(params) {
  const pairs = Object.entries(params).filter(([, v]) => v !== "" && v != null);
  return pairs.length ? "?" + new URLSearchParams(pairs).toString() : "";
}

// Build DOM nodes without innerHTML, so message text is never parsed as markup.
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value == null || value === false) continue;
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (name === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child == null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function when(iso) {
  const date = new Date(iso);
  const today = new Date().toDateString() === date.toDateString();
  return today
    ? date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })
    : date.toLocaleString([], { dateStyle: "short", timeStyle: "short" });
}

// Bodies that are not JSON: YAML text, or FormData for uploads (the browser sets its type).
export async function apiRaw(method, path, body, contentType) {
  const headers = contentType ? { "Content-Type": contentType } : {};
  const response = await fetch(`/api/v1${path}`, { method, headers, body, credentials: "same-origin" });
  const isJson = (response.headers.get("content-type") || "").includes("json");
  const data = isJson ? await response.json().catch(() => null) : await response.text();
  if (!response.ok) throw new ApiError(response.status, isJson ? data : null);
  return data;
}

// A refresh nobody waits for (a timer, a live event, a poll): a failure, such as the
// server restarting, is logged and the next refresh tries again; never an uncaught error.
export function background(promise) {
  return promise.catch((failure) => console.warn("background refresh failed:", failure.message));
}

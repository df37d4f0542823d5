/** The typed API client: paths and bodies come from the OpenAPI document (`make api-client`). */

import createClient, { type Middleware } from "openapi-fetch";
import { ApiError, OfflineError, type ProblemBody } from "./problem";
import type { components, paths } from "./schema";

export type Schemas = components["schemas"];

export const CSRF_COOKIE = "datamill_csrf";
export const CSRF_HEADER = "X-CSRF-Token";

export function readCookie(name: string): string | undefined {
  for (const part of document.cookie.split(";")) {
    const [key, ...value] = part.trim().split("=");
    if (key === name) return decodeURIComponent(value.join("="));
  }
  return undefined;
}

/** Cookie-authenticated writes must carry the CSRF token the server set at sign-in. */
const csrf: Middleware = {
  onRequest({ request }) {
    if (request.method !== "GET" && request.method !== "HEAD") {
      const token = readCookie(CSRF_COOKIE);
      if (token) request.headers.set(CSRF_HEADER, token);
    }
    return request;
  },
};

const listeners = new Set<() => void>();

/** Called when any request answers 401: the session ended, so the app shows the sign-in page. */
export function onSignedOut(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function signedOut(): void {
  for (const listener of listeners) listener();
}

export const api = createClient<paths>({ baseUrl: typeof window === "undefined" ? "" : window.location.origin });
api.use(csrf);

interface Reply<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

/** The reply's data, or an ApiError carrying the server's problem; 401 also signs the app out. */
export async function unwrap<T>(call: Promise<Reply<T>>): Promise<T> {
  let reply: Reply<T>;
  try {
    reply = await call;
  } catch (error) {
    // fetch rejects with a TypeError when the network fails; anything else is not "offline".
    if (error instanceof TypeError) throw new OfflineError();
    throw error;
  }
  if (reply.response.ok) return reply.data as T;
  if (reply.response.status === 401) signedOut();
  const body = (typeof reply.error === "object" ? reply.error : null) as ProblemBody | null;
  throw new ApiError(reply.response.status, body);
}

/**
 * Send a body the typed client does not serialise (a YAML spec, a multipart form), with the
 * same CSRF header and the same errors as every other call.
 */
export async function send<T>(method: string, path: string, body: BodyInit, contentType?: string): Promise<T> {
  const headers = new Headers();
  if (contentType) headers.set("Content-Type", contentType);
  const token = readCookie(CSRF_COOKIE);
  if (token) headers.set(CSRF_HEADER, token);
  const call = fetch(path, { method, body, headers }).then(async (response) => {
    const parsed = response.headers.get("content-type")?.includes("json") ? await response.json() : undefined;
    return response.ok ? { data: parsed as T, response } : { error: parsed, response };
  });
  return unwrap<T>(call);
}

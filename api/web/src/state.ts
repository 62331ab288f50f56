// The signed-in session: the API key lives in sessionStorage only (gone when the tab closes or on sign-out).
import { APIError, Client } from "speechtospeechai";
import type { ServerConfig } from "./types";

const KEY = "s2s.apiKey";

export function apiKey(): string | null {
  return sessionStorage.getItem(KEY);
}

export function signIn(key: string): void {
  sessionStorage.setItem(KEY, key);
  cached = null;
}

export function signOut(): void {
  sessionStorage.removeItem(KEY);
  cached = null;
}

let cached: Client | null = null;

/** An SDK client for this server (same origin) with the session's key. */
export function client(key: string | null = apiKey()): Client {
  if (key === null) throw new Error("Sign in with an API key first.");
  if (key !== apiKey()) return new Client({ apiKey: key, baseURL: location.origin, maxRetries: 0 });
  cached ??= new Client({ apiKey: key, baseURL: location.origin, maxRetries: 1 });
  return cached;
}

let config: Promise<ServerConfig> | null = null;

/** The server's limits the playground shows up front (text length, upload size, how cloning takes consent). */
export function serverConfig(): Promise<ServerConfig> {
  config ??= fetch("/playground/config.json").then((r) => {
    if (!r.ok) throw new Error(`GET /playground/config.json answered ${r.status}`);
    return r.json() as Promise<ServerConfig>;
  });
  return config;
}

/** An error as a sentence for the page: the API's message, its code and status, and the request id. */
export function errorText(error: unknown, signedIn = true): string {
  if (error instanceof APIError) {
    const parts = [error.code, error.status ? `HTTP ${error.status}` : null, error.requestId ? `request ${error.requestId}` : null];
    const detail = parts.filter(Boolean).join(", ");
    const text = detail ? `${error.message} (${detail})` : error.message;
    return error.status === 401 && signedIn ? `${text} Sign out and sign in with a valid key.` : text;
  }
  if (error instanceof Error) return error.message;
  return String(error);
}

export function isAuthError(error: unknown): boolean {
  return error instanceof APIError && error.status === 401;
}

/** What differs between Node and browsers, looked up at call time (never a Node-only import at the top level). */

import { SpeechToSpeechAIError } from "./errors.js";

/** Whether this is Node (or a runtime that imitates it, like Bun or Deno with process). */
export function isNode(): boolean {
  const p = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return typeof p?.versions?.node === "string";
}

/** An environment variable where `process.env` exists; undefined in browsers. */
export function readEnv(name: string): string | undefined {
  const p = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process;
  const value = p?.env?.[name];
  return value === undefined || value === "" ? undefined : value.trim();
}

/** A Node built-in, imported only when called: bundlers for browsers leave it alone. */
export async function nodeImport<T>(specifier: string): Promise<T> {
  return (await import(/* webpackIgnore: true */ /* @vite-ignore */ specifier)) as T;
}

interface WebCrypto {
  randomUUID(): string;
  getRandomValues<T extends ArrayBufferView>(array: T): T;
  subtle: SubtleCrypto;
}

let cachedCrypto: WebCrypto | undefined;

/** The WebCrypto API: `globalThis.crypto` (browsers, Node 19+), else node:crypto's `webcrypto` (Node 18). */
export async function webCrypto(): Promise<WebCrypto> {
  if (cachedCrypto) return cachedCrypto;
  const global = (globalThis as { crypto?: WebCrypto }).crypto;
  if (global?.subtle) {
    cachedCrypto = global;
  } else if (isNode()) {
    const nodeCrypto = await nodeImport<{ webcrypto: WebCrypto }>("node:crypto");
    cachedCrypto = nodeCrypto.webcrypto;
  } else {
    throw new SpeechToSpeechAIError(
      "WebCrypto (crypto.subtle) is missing: browsers offer it only to pages served over https or from localhost.",
    );
  }
  return cachedCrypto;
}

/** A random (version 4) UUID. `crypto.randomUUID` exists only in secure contexts (https or localhost): a page
 * served over plain http elsewhere builds one from `crypto.getRandomValues`, which every context has. */
export async function randomUUID(): Promise<string> {
  const global = (globalThis as { crypto?: Partial<WebCrypto> }).crypto;
  if (typeof global?.randomUUID === "function") return global.randomUUID();
  const bytes = new Uint8Array(16);
  if (typeof global?.getRandomValues === "function") global.getRandomValues(bytes);
  else (await webCrypto()).getRandomValues(bytes);
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Resolves after `ms` milliseconds, or rejects with the signal's reason when it aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** What differs between Node and browsers, looked up at call time (never a Node-only import at the top level). */

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
  if (global?.subtle && typeof global.randomUUID === "function") {
    cachedCrypto = global;
  } else {
    const nodeCrypto = await nodeImport<{ webcrypto: WebCrypto }>("node:crypto");
    cachedCrypto = nodeCrypto.webcrypto;
  }
  return cachedCrypto;
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

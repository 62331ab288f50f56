/**
 * `client.webhooks`: verify deliveries (`unwrap`, `verify`), manage endpoints, and redeliver.
 *
 * Deliveries follow the Standard Webhooks specification: `webhook-signature` carries `v1,<base64 HMAC-SHA256>`
 * signatures (one per active secret, space-separated) of `webhook-id.webhook-timestamp.body`, made with the
 * endpoint's `whsec_<base64>` secret; a timestamp more than five minutes away from now is refused (replays).
 * Verification uses WebCrypto, in browsers and Node alike.
 */

import { APIResource, parseJSON, pathParam, type RequestOptions } from "../core.js";
import { WebhookVerificationError } from "../errors.js";
import { readEnv, webCrypto } from "../runtime.js";
import { base64Decode } from "../uploads.js";
import type {
  WebhookDelivery,
  WebhookDeliveryList,
  WebhookEndpoint,
  WebhookEndpointList,
  WebhookEvent,
} from "../types.js";

export const SECRET_ENV = "S2S_WEBHOOK_SECRET";
export const SECRET_PREFIX = "whsec_";
/** Seconds a delivery's timestamp may be away from now. */
export const TIMESTAMP_TOLERANCE = 5 * 60;

/** Request headers as a Headers object, a plain object (Node's `req.headers`: any case, values or arrays), or
 * [name, value] pairs. */
export type WebhookHeaders =
  Headers | Record<string, string | readonly string[] | undefined> | Iterable<readonly [string, string]>;

export interface VerifyOptions {
  /** Unix seconds to check the timestamp against (default: now). */
  now?: number;
}

function header(headers: WebhookHeaders, name: string): string | undefined {
  if (typeof Headers !== "undefined" && headers instanceof Headers) return headers.get(name) ?? undefined;
  if (typeof (headers as Partial<Iterable<unknown>>)[Symbol.iterator] === "function") {
    for (const [key, value] of headers as Iterable<readonly [string, string]>) {
      if (key.toLowerCase() === name) return value;
    }
    return undefined;
  }
  for (const [key, value] of Object.entries(headers as Record<string, string | readonly string[] | undefined>)) {
    if (key.toLowerCase() !== name || value === undefined) continue;
    return typeof value === "string" ? value : value[0];
  }
  return undefined;
}

function secretKey(secret: string | undefined): Uint8Array {
  const value = secret ?? readEnv(SECRET_ENV);
  if (!value) {
    throw new TypeError(`Pass the endpoint's signing secret (whsec_...) as secret, or set ${SECRET_ENV}.`);
  }
  const encoded = value.startsWith(SECRET_PREFIX) ? value.slice(SECRET_PREFIX.length) : value;
  try {
    return base64Decode(encoded);
  } catch {
    throw new TypeError("The webhook secret is not a whsec_<base64> signing secret; copy it from the endpoint.");
  }
}

function bytesOf(payload: string | Uint8Array | ArrayBuffer): Uint8Array {
  if (typeof payload === "string") return new TextEncoder().encode(payload);
  if (payload instanceof ArrayBuffer) return new Uint8Array(payload);
  return new Uint8Array(payload.buffer, payload.byteOffset, payload.byteLength);
}

function fail(reason: string): never {
  throw new WebhookVerificationError(`The webhook does not verify: ${reason}.`);
}

/** Reject (WebhookVerificationError) unless `payload`, the raw request body, was signed with `secret` within the
 * last five minutes. */
export async function verify(
  payload: string | Uint8Array | ArrayBuffer,
  headers: WebhookHeaders,
  secret?: string,
  options: VerifyOptions = {},
): Promise<void> {
  const key = secretKey(secret);
  const id = header(headers, "webhook-id");
  const timestamp = header(headers, "webhook-timestamp");
  const signatures = header(headers, "webhook-signature");
  if (!id || !timestamp || !signatures) fail("Missing required headers");
  if (!/^\d+$/.test(timestamp.trim())) fail("Invalid Signature Headers");
  const sent = Number(timestamp.trim());
  const now = Math.floor(options.now ?? Date.now() / 1000);
  if (sent < now - TIMESTAMP_TOLERANCE) fail("Message timestamp too old");
  if (sent > now + TIMESTAMP_TOLERANCE) fail("Message timestamp too new");

  const prefix = new TextEncoder().encode(`${id}.${timestamp.trim()}.`);
  const body = bytesOf(payload);
  const signed = new Uint8Array(prefix.length + body.length);
  signed.set(prefix, 0);
  signed.set(body, prefix.length);

  const { subtle } = await webCrypto();
  const hmac = await subtle.importKey("raw", key as unknown as BufferSource, { name: "HMAC", hash: "SHA-256" }, false, [
    "verify",
  ]);
  for (const part of signatures.split(" ")) {
    const comma = part.indexOf(",");
    if (comma < 0 || part.slice(0, comma) !== "v1") continue;
    let signature: Uint8Array;
    try {
      signature = base64Decode(part.slice(comma + 1));
    } catch {
      continue;
    }
    // HMAC verification by WebCrypto compares in constant time
    if (await subtle.verify("HMAC", hmac, signature as unknown as BufferSource, signed as unknown as BufferSource))
      return;
  }
  fail("No matching signature found");
}

/** Verify the delivery and resolve with its event (`type`, `data`); the same `id` on every retry (deduplicate by
 * it). */
export async function unwrap(
  payload: string | Uint8Array | ArrayBuffer,
  headers: WebhookHeaders,
  secret?: string,
  options: VerifyOptions = {},
): Promise<WebhookEvent> {
  await verify(payload, headers, secret, options);
  const text = typeof payload === "string" ? payload : new TextDecoder().decode(bytesOf(payload));
  try {
    return JSON.parse(text) as WebhookEvent;
  } catch {
    return fail("the body is not JSON");
  }
}

export interface WebhookEndpointCreateParams {
  url: string;
  /** Event types (e.g. `batch.completed`, `job.succeeded`); default: every event. */
  events?: readonly string[];
  description?: string;
  enabled?: boolean;
  /** Also the destination of requests that give no webhook_url. */
  default_for_requests?: boolean;
}

/** `/v1/webhook_endpoints`: where events go. The secret is in the create and rotateSecret answers only. */
export class WebhookEndpoints extends APIResource {
  async create(params: WebhookEndpointCreateParams, options?: RequestOptions): Promise<WebhookEndpoint> {
    const response = await this._client.request({
      method: "POST",
      path: "webhook_endpoints",
      json: { ...params },
      options,
    });
    return parseJSON<WebhookEndpoint>(response, "webhook endpoint");
  }

  async list(options?: RequestOptions): Promise<WebhookEndpointList> {
    const response = await this._client.request({ method: "GET", path: "webhook_endpoints", options });
    return parseJSON<WebhookEndpointList>(response, "webhook endpoint list");
  }

  async retrieve(endpointId: string, options?: RequestOptions): Promise<WebhookEndpoint> {
    const response = await this._client.request({
      method: "GET",
      path: `webhook_endpoints/${pathParam(endpointId)}`,
      options,
    });
    return parseJSON<WebhookEndpoint>(response, "webhook endpoint");
  }

  /** Change url, events, description, enabled or default_for_requests. */
  async update(
    endpointId: string,
    params: Partial<WebhookEndpointCreateParams>,
    options?: RequestOptions,
  ): Promise<WebhookEndpoint> {
    const response = await this._client.request({
      method: "PATCH",
      path: `webhook_endpoints/${pathParam(endpointId)}`,
      json: { ...params },
      options,
    });
    return parseJSON<WebhookEndpoint>(response, "webhook endpoint");
  }

  async delete(endpointId: string, options?: RequestOptions): Promise<void> {
    await this._client.request({ method: "DELETE", path: `webhook_endpoints/${pathParam(endpointId)}`, options });
  }

  /** A new secret (in the answer); the old one keeps signing during the server's grace period. */
  async rotateSecret(endpointId: string, options?: RequestOptions): Promise<WebhookEndpoint> {
    const response = await this._client.request({
      method: "POST",
      path: `webhook_endpoints/${pathParam(endpointId)}/rotate_secret`,
      options,
    });
    return parseJSON<WebhookEndpoint>(response, "webhook endpoint");
  }

  /** Send a `webhook.test` event to the endpoint now. */
  async test(endpointId: string, options?: RequestOptions): Promise<WebhookDelivery> {
    const response = await this._client.request({
      method: "POST",
      path: `webhook_endpoints/${pathParam(endpointId)}/test`,
      options,
    });
    return parseJSON<WebhookDelivery>(response, "webhook delivery");
  }

  async deliveries(
    endpointId: string,
    params: { limit?: number; after?: string } = {},
    options?: RequestOptions,
  ): Promise<WebhookDeliveryList> {
    const response = await this._client.request({
      method: "GET",
      path: `webhook_endpoints/${pathParam(endpointId)}/deliveries`,
      query: { ...params },
      options,
    });
    return parseJSON<WebhookDeliveryList>(response, "webhook delivery list");
  }
}

/** Verify what the server sends (`unwrap`, `verify`); `endpoints` to manage where it goes. */
export class Webhooks extends APIResource {
  readonly endpoints: WebhookEndpoints = new WebhookEndpoints(this._client);

  /** See the module function `unwrap`. */
  unwrap(
    payload: string | Uint8Array | ArrayBuffer,
    headers: WebhookHeaders,
    secret?: string,
    options?: VerifyOptions,
  ): Promise<WebhookEvent> {
    return unwrap(payload, headers, secret, options);
  }

  /** See the module function `verify`. */
  verify(
    payload: string | Uint8Array | ArrayBuffer,
    headers: WebhookHeaders,
    secret?: string,
    options?: VerifyOptions,
  ): Promise<void> {
    return verify(payload, headers, secret, options);
  }

  /** Send a delivery again now (same webhook-id). */
  async redeliver(deliveryId: string, options?: RequestOptions): Promise<WebhookDelivery> {
    const response = await this._client.request({
      method: "POST",
      path: `webhook_deliveries/${pathParam(deliveryId)}/redeliver`,
      options,
    });
    return parseJSON<WebhookDelivery>(response, "webhook delivery");
  }

  /** Every delivery of the account, per-request URLs included, newest first. */
  async deliveries(
    params: { limit?: number; after?: string } = {},
    options?: RequestOptions,
  ): Promise<WebhookDeliveryList> {
    const response = await this._client.request({
      method: "GET",
      path: "webhook_deliveries",
      query: { ...params },
      options,
    });
    return parseJSON<WebhookDeliveryList>(response, "webhook delivery list");
  }
}

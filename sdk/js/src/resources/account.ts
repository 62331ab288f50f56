/** `client.account`: `GET /v1/account`, and the account's API keys (`/v1/account/keys`). */

import { APIResource, parseJSON, pathParam, type RequestOptions } from "../core.js";
import type { Account as AccountObject, ApiKey, ApiKeyCreated, ApiKeyList } from "../types.js";

export interface ApiKeyCreateParams {
  /** A label for the key. */
  name: string;
  /** Override of the account's requests-per-minute limit (0: unlimited). */
  requests_per_minute?: number;
  /** Override of the account's concurrent-jobs limit (0: unlimited). */
  max_concurrent_jobs?: number;
}

/** The account's API keys. The secret is in the answer to `create` only. */
export class Keys extends APIResource {
  /** `POST /v1/account/keys`: a new key; store `key.key` now, it is never shown again. */
  async create(params: ApiKeyCreateParams, options?: RequestOptions): Promise<ApiKeyCreated> {
    const response = await this._client.request({ method: "POST", path: "account/keys", json: { ...params }, options });
    return parseJSON<ApiKeyCreated>(response, "API key");
  }

  /** `GET /v1/account/keys`: the account's keys, without secrets; revoked ones too (with `revoked_at`) unless
   * `include_revoked: false`. */
  async list(params: { include_revoked?: boolean } = {}, options?: RequestOptions): Promise<ApiKeyList> {
    const response = await this._client.request({ method: "GET", path: "account/keys", query: { ...params }, options });
    return parseJSON<ApiKeyList>(response, "API key list");
  }

  /** `DELETE /v1/account/keys/{id}`: revoke a key; its requests are refused (401) at once. */
  async revoke(keyId: string, options?: RequestOptions): Promise<ApiKey> {
    const response = await this._client.request({
      method: "DELETE",
      path: `account/keys/${pathParam(keyId)}`,
      options,
    });
    return parseJSON<ApiKey>(response, "API key");
  }
}

/** The caller's account: balance, reserved credits, the limits of the key in use. */
export class Account extends APIResource {
  readonly keys: Keys = new Keys(this._client);

  /** `GET /v1/account`. */
  async retrieve(options?: RequestOptions): Promise<AccountObject> {
    const response = await this._client.request({ method: "GET", path: "account", options });
    return parseJSON<AccountObject>(response, "account");
  }
}

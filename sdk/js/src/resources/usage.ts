/** `client.usage`: `GET /v1/usage`, requests, characters, audio seconds and credits per day (UTC) and model. */

import { APIResource, parseJSON, type RequestOptions } from "../core.js";
import type { Usage as UsageObject } from "../types.js";

export interface UsageParams {
  /** First day (UTC, YYYY-MM-DD or a Date); default: 29 days before `to`. */
  from?: string | Date;
  /** Last day (UTC, YYYY-MM-DD or a Date); default: today. */
  to?: string | Date;
}

export class Usage extends APIResource {
  /** One row per day and model (oldest first) and the totals, for at most 366 days. */
  async list(params: UsageParams = {}, options?: RequestOptions): Promise<UsageObject> {
    const response = await this._client.request({
      method: "GET",
      path: "usage",
      query: { from: params.from, to: params.to },
      options,
    });
    return parseJSON<UsageObject>(response, "usage");
  }

  /** Same as `list`. */
  retrieve(params: UsageParams = {}, options?: RequestOptions): Promise<UsageObject> {
    return this.list(params, options);
  }
}

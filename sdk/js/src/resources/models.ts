/** `client.models`: `GET /v1/models[/{id}]`. */

import { APIResource, parseJSON, pathParam, type RequestOptions } from "../core.js";
import type { Model, ModelList } from "../types.js";

/** Every model the server knows, whether its weights are installed, and how to install them. */
export class Models extends APIResource {
  async list(options?: RequestOptions): Promise<ModelList> {
    const response = await this._client.request({ method: "GET", path: "models", options });
    return parseJSON<ModelList>(response, "model list");
  }

  async retrieve(modelId: string, options?: RequestOptions): Promise<Model> {
    const response = await this._client.request({ method: "GET", path: `models/${pathParam(modelId)}`, options });
    return parseJSON<Model>(response, "model");
  }
}

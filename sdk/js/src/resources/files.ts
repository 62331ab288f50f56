/** `client.files`: `POST /v1/files`, `GET /v1/files[/{id}]`, `GET /v1/files/{id}/content`, `DELETE /v1/files/{id}`. */

import { APIResource, parseJSON, pathParam, type RequestOptions } from "../core.js";
import { BinaryResponse } from "../response.js";
import type { Uploadable } from "../uploads.js";
import type { FileDeleted, FileList, FileObject, FilePurpose } from "../types.js";

/** Files in the server's object store: batch inputs (`purpose: "batch"`), audio to use by `file_id`
 * (`purpose: "audio"`), and the outputs of batches. They expire (`expires_at`). */
export class Files extends APIResource {
  /** Upload a file (a Blob, File, bytes, `{ data, name }`, or a path in Node). */
  async create(params: { file: Uploadable; purpose: FilePurpose }, options?: RequestOptions): Promise<FileObject> {
    const response = await this._client.request({
      method: "POST",
      path: "files",
      form: { purpose: params.purpose },
      files: [["file", params.file]],
      options,
    });
    return parseJSON<FileObject>(response, "file");
  }

  /** A page of the account's files, newest first (`after: page.last_id` for the next). */
  async list(
    params: { limit?: number; after?: string; purpose?: FilePurpose } = {},
    options?: RequestOptions,
  ): Promise<FileList> {
    const response = await this._client.request({ method: "GET", path: "files", query: { ...params }, options });
    return parseJSON<FileList>(response, "file list");
  }

  async retrieve(fileId: string, options?: RequestOptions): Promise<FileObject> {
    const response = await this._client.request({ method: "GET", path: `files/${pathParam(fileId)}`, options });
    return parseJSON<FileObject>(response, "file");
  }

  /** The file's bytes (a batch's output file: JSONL, one line per item; `text()` reads it). */
  async content(fileId: string, options?: RequestOptions): Promise<BinaryResponse> {
    const response = await this._client.request({
      method: "GET",
      path: `files/${pathParam(fileId)}/content`,
      stream: true,
      options,
    });
    return new BinaryResponse(response);
  }

  /** Node only: save the file's bytes at `path`; resolves with the path. */
  async download(fileId: string, path: string, options?: RequestOptions): Promise<string> {
    return (await this.content(fileId, options)).save(path);
  }

  async delete(fileId: string, options?: RequestOptions): Promise<FileDeleted> {
    const response = await this._client.request({ method: "DELETE", path: `files/${pathParam(fileId)}`, options });
    return parseJSON<FileDeleted>(response, "file deletion");
  }
}

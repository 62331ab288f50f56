/** `client.batches`: create, retrieve, list, cancel, retry, items, wait (with progress) and download outputs. */

import type { Client } from "../client.js";
import { APIResource, parseJSON, pathParam, type RequestOptions } from "../core.js";
import { APIUserAbortError, BatchTimeoutError, SpeechToSpeechAIError } from "../errors.js";
import { isNode, nodeImport } from "../runtime.js";
import {
  TERMINAL_BATCH_STATUSES,
  type Batch,
  type BatchEndpoint,
  type BatchItem,
  type BatchItemList,
  type BatchItemStatus,
  type BatchList,
} from "../types.js";

export interface BatchCreateParams {
  endpoint: BatchEndpoint;
  /** An uploaded JSONL file (OpenAI's `{custom_id, method, url, body}` lines); or give `requests`. */
  input_file_id?: string;
  /** Inline requests: `[{ custom_id, body: {...} }]`. */
  requests?: readonly Record<string, unknown>[];
  completion_window?: string;
  max_concurrency?: number;
  metadata?: Record<string, string>;
  webhook_url?: string;
}

export interface BatchWaitOptions {
  /** Give up (BatchTimeoutError) after this many milliseconds; the batch keeps running. Default: no limit. */
  timeout?: number;
  /** Milliseconds between polls (default 2000). */
  pollInterval?: number;
  /** Called after every poll (`batch.request_counts` says how far it is). */
  onProgress?: (batch: Batch) => void;
  signal?: AbortSignal;
}

/** What `batches.download` wrote: the output and error JSONL files and, for speech batches, the audio. */
export interface DownloadedBatch {
  directory: string;
  output?: string;
  errors?: string;
  audio: string[];
}

const UNSAFE = /[^A-Za-z0-9._-]+/g;

function audioName(customId: string, format: string, taken: Set<string>): string {
  const stem = customId.replace(UNSAFE, "_").replace(/^[._]+|[._]+$/g, "") || "item";
  let name = `${stem}.${format}`;
  for (let n = 2; taken.has(name); n++) name = `${stem}-${n}.${format}`;
  taken.add(name);
  return name;
}

/** (custom_id, job id, format) of every speech item in an output file. */
function audioItems(output: string): [string, string, string][] {
  const items: [string, string, string][] = [];
  for (const raw of output.split(/\r?\n/)) {
    if (!raw.trim()) continue;
    const line = JSON.parse(raw) as { custom_id?: unknown; response?: { body?: { job_id?: string; format?: string } } };
    const body = line.response?.body ?? {};
    if (body.job_id && body.format) items.push([String(line.custom_id), String(body.job_id), String(body.format)]);
  }
  return items;
}

/** Batches of speech, transcription or clone requests; each item runs as its own job. */
export class Batches extends APIResource<Client> {
  /** `POST /v1/batches`: from an uploaded JSONL file or inline `requests`. Invalid lines are listed in
   * `batch.errors`. */
  async create(params: BatchCreateParams, options?: RequestOptions): Promise<Batch> {
    if ((params.input_file_id === undefined) === (params.requests === undefined)) {
      throw new TypeError("Give the requests as input_file_id (an uploaded JSONL file) or requests: [...].");
    }
    const response = await this._client.request({
      method: "POST",
      path: "batches",
      json: { completion_window: "24h", ...params },
      options,
    });
    return parseJSON<Batch>(response, "batch");
  }

  async retrieve(batchId: string, options?: RequestOptions): Promise<Batch> {
    const response = await this._client.request({ method: "GET", path: `batches/${pathParam(batchId)}`, options });
    return parseJSON<Batch>(response, "batch");
  }

  /** A page of the account's batches, newest first. */
  async list(params: { limit?: number; after?: string } = {}, options?: RequestOptions): Promise<BatchList> {
    const response = await this._client.request({ method: "GET", path: "batches", query: { ...params }, options });
    return parseJSON<BatchList>(response, "batch list");
  }

  /** Queued items are canceled and refunded, running ones stopped. */
  async cancel(batchId: string, options?: RequestOptions): Promise<Batch> {
    const response = await this._client.request({
      method: "POST",
      path: `batches/${pathParam(batchId)}/cancel`,
      options,
    });
    return parseJSON<Batch>(response, "batch");
  }

  /** Run the batch's failed items again. */
  async retry(batchId: string, options?: RequestOptions): Promise<Batch> {
    const response = await this._client.request({
      method: "POST",
      path: `batches/${pathParam(batchId)}/retry`,
      options,
    });
    return parseJSON<Batch>(response, "batch");
  }

  /** One page of the batch's items, in line order. */
  async items(
    batchId: string,
    params: { status?: BatchItemStatus; after?: string; limit?: number } = {},
    options?: RequestOptions,
  ): Promise<BatchItemList> {
    const response = await this._client.request({
      method: "GET",
      path: `batches/${pathParam(batchId)}/items`,
      query: { ...params },
      options,
    });
    return parseJSON<BatchItemList>(response, "batch item list");
  }

  /** Every item of the batch, page after page. */
  async *iterItems(
    batchId: string,
    params: { status?: BatchItemStatus } = {},
    options?: RequestOptions,
  ): AsyncGenerator<BatchItem> {
    let after: string | undefined;
    while (true) {
      const page = await this.items(batchId, { status: params.status, after, limit: 1000 }, options);
      yield* page.data;
      if (!page.has_more || !page.data.length) return;
      after = page.last_id ?? undefined;
    }
  }

  /** Poll until the batch ends (completed, failed, expired or cancelled). */
  async wait(batchId: string, options: BatchWaitOptions = {}): Promise<Batch> {
    const { timeout, pollInterval = 2000, onProgress, signal } = options;
    const deadline = timeout === undefined ? undefined : Date.now() + timeout;
    while (true) {
      const batch = await this.retrieve(batchId, { signal });
      onProgress?.(batch);
      if (TERMINAL_BATCH_STATUSES.includes(batch.status)) return batch;
      if (deadline !== undefined && Date.now() >= deadline) throw new BatchTimeoutError(batch, timeout as number);
      try {
        await this._client._sleep(pollInterval, signal);
      } catch (err) {
        throw new APIUserAbortError("Request was aborted.", { cause: err });
      }
    }
  }

  /** Node only: write the batch's `output.jsonl` and `errors.jsonl` into `directory` and (speech batches) each
   * item's audio as `<custom_id>.<format>`. */
  async download(
    batchId: string,
    directory: string,
    params: { audio?: boolean } = {},
    options?: RequestOptions,
  ): Promise<DownloadedBatch> {
    if (!isNode()) throw new SpeechToSpeechAIError("batches.download writes files: it needs Node.");
    const fs = await nodeImport<typeof import("node:fs/promises")>("node:fs/promises");
    const path = await nodeImport<typeof import("node:path")>("node:path");
    await fs.mkdir(directory, { recursive: true });
    const batch = await this.retrieve(batchId, options);
    const done: DownloadedBatch = { directory, audio: [] };
    const files = this._client.files;
    if (batch.error_file_id) {
      done.errors = await files.download(batch.error_file_id, path.join(directory, "errors.jsonl"), options);
    }
    if (batch.output_file_id) {
      const output = await (await files.content(batch.output_file_id, options)).text();
      done.output = path.join(directory, "output.jsonl");
      await fs.writeFile(done.output, output);
      const taken = new Set<string>();
      for (const [customId, jobId, format] of params.audio === false ? [] : audioItems(output)) {
        const target = path.join(directory, audioName(customId, format, taken));
        await (await this._client.jobs.result(jobId, {}, options)).save(target);
        done.audio.push(target);
      }
    }
    return done;
  }
}

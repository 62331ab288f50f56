/** `client.jobs`: `GET /v1/jobs[/{id}]`, `GET /v1/jobs/{id}/result`, `DELETE /v1/jobs/{id}`, and polling. */

import { APIResource, parseJSON, pathParam, type RequestOptions } from "../core.js";
import { APIUserAbortError, JobFailedError, JobTimeoutError } from "../errors.js";
import { SpeechResponse } from "../response.js";
import {
  TERMINAL_JOB_STATUSES,
  TEXT_FORMATS,
  type Job,
  type JobKind,
  type JobList,
  type JobStatus,
  type JsonFormat,
  type TextFormat,
  type Transcription,
  type TranscriptionFormat,
} from "../types.js";

export interface JobListParams {
  limit?: number;
  /** The last job id of the previous page (`page.last_id`). */
  after?: string;
  status?: JobStatus;
  /** Same as `status`. */
  state?: JobStatus;
  kind?: JobKind;
}

export interface JobWaitOptions {
  /** Give up (JobTimeoutError) after this many milliseconds; the job keeps running. Default: no limit. */
  timeout?: number;
  /** Milliseconds between polls (default 1000). */
  pollInterval?: number;
  /** Called with the job after every poll (`job.progress` is 0-1). */
  onProgress?: (job: Job) => void;
  signal?: AbortSignal;
}

/** Whether a job reached a terminal state (succeeded, failed or canceled). */
export function isJobDone(job: Job): boolean {
  return TERMINAL_JOB_STATUSES.includes(job.status);
}

/** A transcription as the server rendered it: a string for text, srt, vtt and rttm; a Transcription otherwise
 * (whose `words` are gathered from its segments where only they carry them). */
export async function parseTranscription(
  response: Response,
  responseFormat: string | undefined,
): Promise<Transcription | string> {
  if (responseFormat && TEXT_FORMATS.includes(responseFormat)) return response.text();
  return normalizeTranscription(await parseJSON<Transcription>(response, "transcription"));
}

export function normalizeTranscription(t: Transcription): Transcription {
  t.segments = t.segments ?? [];
  if (t.words == null && t.segments.some((s) => s.words && s.words.length)) {
    t.words = t.segments.flatMap((s) => s.words ?? []);
  }
  return t;
}

/** Background jobs: state, progress, result download and cancellation. */
export class Jobs extends APIResource {
  /** `GET /v1/jobs/{id}`. */
  async retrieve(jobId: string, options?: RequestOptions): Promise<Job> {
    const response = await this._client.request({ method: "GET", path: `jobs/${pathParam(jobId)}`, options });
    return parseJSON<Job>(response, "job");
  }

  /** `GET /v1/jobs`: a page of the account's jobs, newest first (`after: page.last_id` for the next). */
  async list(params: JobListParams = {}, options?: RequestOptions): Promise<JobList> {
    const { state, ...rest } = params;
    const query = { ...rest, status: params.status ?? state };
    const response = await this._client.request({ method: "GET", path: "jobs", query, options });
    return parseJSON<JobList>(response, "job list");
  }

  /** `DELETE /v1/jobs/{id}`: cancel a queued or running job; resolves with its new state. */
  async cancel(jobId: string, options?: RequestOptions): Promise<Job> {
    const response = await this._client.request({ method: "DELETE", path: `jobs/${pathParam(jobId)}`, options });
    return parseJSON<Job>(response, "job");
  }

  /** `GET /v1/jobs/{id}/result` as it downloads: the audio of a succeeded synthesis job, or a transcription job's
   * result rendered in `response_format` (json, verbose_json, diarized_json, text, srt, vtt, rttm; `text()` or
   * `blob()` read it; `transcription()` parses it). */
  async result(
    jobId: string,
    params: { response_format?: TranscriptionFormat } = {},
    options?: RequestOptions,
  ): Promise<SpeechResponse> {
    const response = await this._client.request({
      method: "GET",
      path: `jobs/${pathParam(jobId)}/result`,
      query: { response_format: params.response_format },
      stream: true,
      options,
    });
    return new SpeechResponse(response);
  }

  /** `GET /v1/jobs/{id}/result` of a succeeded speech-to-text job, rendered by the server in `response_format`
   * (default json): a string for text, srt, vtt and rttm. */
  transcription(jobId: string, params: { response_format: TextFormat }, options?: RequestOptions): Promise<string>;
  transcription(
    jobId: string,
    params?: { response_format?: JsonFormat },
    options?: RequestOptions,
  ): Promise<Transcription>;
  transcription(
    jobId: string,
    params?: { response_format?: TranscriptionFormat },
    options?: RequestOptions,
  ): Promise<Transcription | string>;
  async transcription(
    jobId: string,
    params: { response_format?: TranscriptionFormat } = {},
    options?: RequestOptions,
  ): Promise<Transcription | string> {
    const format = params.response_format ?? "json";
    const response = await this._client.request({
      method: "GET",
      path: `jobs/${pathParam(jobId)}/result`,
      query: { response_format: format },
      options,
    });
    return parseTranscription(response, format);
  }

  /** Poll until the job succeeds, fails or is canceled, and resolve with it (check `job.status`). */
  async wait(jobId: string, options: JobWaitOptions = {}): Promise<Job> {
    const { timeout, pollInterval = 1000, onProgress, signal } = options;
    const deadline = timeout === undefined ? undefined : Date.now() + timeout;
    while (true) {
      const job = await this.retrieve(jobId, { signal });
      onProgress?.(job);
      if (isJobDone(job)) return job;
      let wait = pollInterval;
      if (deadline !== undefined) {
        const left = deadline - Date.now();
        if (left <= 0) throw new JobTimeoutError(job, timeout as number);
        wait = Math.min(wait, left);
      }
      await sleepOrAbort(this._client._sleep, wait, signal);
    }
  }

  /** `wait`, then JobFailedError unless the job succeeded. */
  async waitForSuccess(jobId: string, options: JobWaitOptions = {}): Promise<Job> {
    const job = await this.wait(jobId, options);
    if (job.status !== "succeeded") throw new JobFailedError(job);
    return job;
  }
}

async function sleepOrAbort(
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>,
  ms: number,
  signal: AbortSignal | undefined,
): Promise<void> {
  try {
    await sleep(ms, signal);
  } catch (err) {
    throw new APIUserAbortError("Request was aborted.", { cause: err });
  }
}

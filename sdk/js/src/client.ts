/** `Client`: the root of the client tree, which mirrors the URL tree of the API. */

import { APIClient, type ClientOptions } from "./core.js";
import { Account } from "./resources/account.js";
import { Audio } from "./resources/audio.js";
import { Batches } from "./resources/batches.js";
import { Files } from "./resources/files.js";
import { Jobs } from "./resources/jobs.js";
import { Models } from "./resources/models.js";
import { Usage } from "./resources/usage.js";
import { Voices } from "./resources/voices.js";
import { Webhooks } from "./resources/webhooks.js";

/**
 * The Speech to Speech AI API.
 *
 * `apiKey` defaults to the S2S_API_KEY environment variable and `baseURL` to S2S_BASE_URL (Node), else the page's
 * origin (browsers), else `http://127.0.0.1:8000` (`/v1` is added). Failed requests are retried `maxRetries`
 * times (408, 409 in progress, 429, 5xx, connection errors) with backoff, honouring Retry-After.
 */
export class Client extends APIClient {
  /** `/v1/audio`: speech, transcriptions, translations, diarization. */
  readonly audio: Audio;
  /** `/v1/voices`: clone, design, list, retrieve, update, preview and delete voices. */
  readonly voices: Voices;
  /** `/v1/jobs`: background jobs, their progress and results. */
  readonly jobs: Jobs;
  /** `/v1/models`: the models the server knows and whether they are installed. */
  readonly models: Models;
  /** `/v1/account`: balance, limits and API keys. */
  readonly account: Account;
  /** `/v1/usage`: usage per day and model. */
  readonly usage: Usage;
  /** `/v1/files`: batch inputs, audio to use by `file_id`, batch outputs. */
  readonly files: Files;
  /** `/v1/batches`: many requests as one batch; `wait`, `items`, `download`. */
  readonly batches: Batches;
  /** Verify deliveries (`unwrap`, `verify`) and manage `endpoints`. */
  readonly webhooks: Webhooks;

  constructor(options: ClientOptions = {}) {
    super(options);
    this.audio = new Audio(this);
    this.voices = new Voices(this);
    this.jobs = new Jobs(this);
    this.models = new Models(this);
    this.account = new Account(this);
    this.usage = new Usage(this);
    this.files = new Files(this);
    this.batches = new Batches(this);
    this.webhooks = new Webhooks(this);
  }
}

export default Client;

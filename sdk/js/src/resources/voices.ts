/** `client.voices`: `POST /v1/voices/clone`, `POST /v1/voices/design`, `GET /v1/voices[/{id}]`, `PATCH` and
 * `DELETE /v1/voices/{id}`, `GET /v1/voices/{id}/preview`. */

import type { Client } from "../client.js";
import { APIResource, parseJSON, pathParam, type RequestOptions } from "../core.js";
import { BinaryResponse } from "../response.js";
import type { Uploadable } from "../uploads.js";
import type { Voice, VoiceDeleted, VoiceList } from "../types.js";

export interface VoiceCloneParams {
  /** Name for the cloned voice. */
  name: string;
  /** Reference recordings of the speaker (10-30 seconds of speech works best). */
  files?: readonly Uploadable[];
  /** One reference recording (same as `files: [file]`). */
  file?: Uploadable;
  /** Uploaded files (purpose `audio`) to clone from, instead of or besides uploads. */
  file_id?: readonly string[];
  /** Default: the best cloning model the server has live. */
  model?: string;
  language?: string;
  /** Attests that the speaker agreed to have their voice cloned (this or `consent_statement` is required). */
  consent?: boolean;
  /** How and when the speaker agreed (stored with the voice); it also attests consent. */
  consent_statement?: string;
  /** The speaker reading the server's consent phrase (needed where the server has CLONE_CONSENT=recording). */
  consent_recording?: Uploadable;
  description?: string;
  /** accent, age, gender, use_case, ... */
  labels?: Record<string, string>;
  webhook_url?: string;
  /** `false`: resolve at once with the voice `processing` (its `job_id` can be followed with client.jobs.wait).
   * Default: wait until it is `ready`. */
  wait?: boolean;
  extra_body?: Record<string, unknown>;
}

export interface VoiceDesignParams {
  name: string;
  /** A recording of the voice to approach (3-120 s); or give `file_id`. */
  file?: Uploadable;
  file_id?: string;
  /** A model whose voices blend (server default: kokoro). */
  model?: string;
  language?: string;
  gender?: "female" | "male";
  /** How many stock voices to mix, 1-4 (1: the closest alone). */
  blend?: number;
  description?: string;
  wait?: boolean;
}

export interface VoiceUpdateParams {
  name?: string;
  /** An empty string clears it. */
  description?: string;
  /** Replaces the labels; `{}` clears them. */
  labels?: Record<string, string>;
}

/** Cloned and designed voices (and the preset voices of the installed models). */
export class Voices extends APIResource<Client> {
  /** The voice a clone or design answered; a 202 is followed to the end of its job when `wait`. */
  private async ready(response: Response, wait: boolean, options?: RequestOptions): Promise<Voice> {
    const voice = await parseJSON<Voice>(response, "voice");
    if (response.status === 202 && wait && voice.job_id) {
      await this._client.jobs.waitForSuccess(voice.job_id, { signal: options?.signal });
      return this.retrieve(voice.id, options);
    }
    return voice;
  }

  /** Clone a voice from reference audio; use `voice.id` as the `voice` of speech requests. */
  async clone(params: VoiceCloneParams, options?: RequestOptions): Promise<Voice> {
    const samples = [...(params.file !== undefined ? [params.file] : []), ...(params.files ?? [])];
    if (!samples.length && !params.file_id?.length) {
      throw new TypeError("Pass the reference audio as file or files (10-30 seconds of speech works best).");
    }
    // one sample goes in the contract's `file` field; several in repeated `files` fields
    const field = samples.length === 1 ? "file" : "files";
    const files: [string, Uploadable][] = samples.map((sample) => [field, sample]);
    if (params.consent_recording !== undefined) files.push(["consent_recording", params.consent_recording]);
    const wait = params.wait ?? true;
    const response = await this._client.request({
      method: "POST",
      path: "voices/clone",
      form: {
        name: params.name,
        model: params.model,
        language: params.language,
        file_id: params.file_id,
        async: wait ? undefined : true,
        consent: params.consent ? true : undefined,
        consent_statement: params.consent_statement,
        description: params.description,
        labels: params.labels && Object.keys(params.labels).length ? JSON.stringify(params.labels) : undefined,
        webhook_url: params.webhook_url,
        ...(params.extra_body ?? {}),
      },
      files,
      options,
    });
    return this.ready(response, wait, options);
  }

  /** The closest stock voice (not a clone): the blend of a model's stock voices that sounds most like the
   * reference; speak it with that model. */
  async design(params: VoiceDesignParams, options?: RequestOptions): Promise<Voice> {
    if (params.file === undefined && !params.file_id) {
      throw new TypeError("Pass the reference recording as file or file_id.");
    }
    const wait = params.wait ?? true;
    const response = await this._client.request({
      method: "POST",
      path: "voices/design",
      form: {
        name: params.name,
        file_id: params.file_id,
        model: params.model,
        language: params.language,
        gender: params.gender,
        blend: params.blend,
        description: params.description,
        async: wait ? undefined : true,
      },
      files: params.file === undefined ? [] : [["file", params.file]],
      options,
    });
    return this.ready(response, wait, options);
  }

  /** `GET /v1/voices`: a page of cloned voices in `data` (`after: page.last_id` for the next), the live models'
   * preset voices in `presets`. */
  async list(params: { limit?: number; after?: string } = {}, options?: RequestOptions): Promise<VoiceList> {
    const response = await this._client.request({ method: "GET", path: "voices", query: { ...params }, options });
    return parseJSON<VoiceList>(response, "voice list");
  }

  async retrieve(voiceId: string, options?: RequestOptions): Promise<Voice> {
    const response = await this._client.request({ method: "GET", path: `voices/${pathParam(voiceId)}`, options });
    return parseJSON<Voice>(response, "voice");
  }

  /** `PATCH /v1/voices/{id}`: change the name, description or labels (absent fields stay). */
  async update(voiceId: string, params: VoiceUpdateParams, options?: RequestOptions): Promise<Voice> {
    const response = await this._client.request({
      method: "PATCH",
      path: `voices/${pathParam(voiceId)}`,
      json: { name: params.name, description: params.description, labels: params.labels },
      options,
    });
    return parseJSON<Voice>(response, "voice");
  }

  /** The voice's preview sample (mp3), made when enrollment ended. */
  async preview(voiceId: string, options?: RequestOptions): Promise<BinaryResponse> {
    const response = await this._client.request({
      method: "GET",
      path: `voices/${pathParam(voiceId)}/preview`,
      stream: true,
      options,
    });
    return new BinaryResponse(response);
  }

  async delete(voiceId: string, options?: RequestOptions): Promise<VoiceDeleted> {
    const response = await this._client.request({ method: "DELETE", path: `voices/${pathParam(voiceId)}`, options });
    return parseJSON<VoiceDeleted>(response, "voice deletion");
  }
}

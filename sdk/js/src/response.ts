/** Binary results (audio, file contents): read whole, or streamed as the bytes arrive. */

import { SpeechToSpeechAIError } from "./errors.js";
import { isNode, nodeImport } from "./runtime.js";

/** Audio (or any binary body) of a response. Its body can be read once: by `arrayBuffer()`, `bytes()`, `blob()`,
 * `text()`, `stream()`, iterating it, or `save(path)`. */
export class BinaryResponse implements AsyncIterable<Uint8Array> {
  constructor(
    /** The fetch Response (status, headers, body). */
    readonly response: Response,
  ) {}

  get headers(): Headers {
    return this.response.headers;
  }

  get status(): number {
    return this.response.status;
  }

  get contentType(): string | null {
    return this.response.headers.get("content-type");
  }

  /** The job that produced it (`client.jobs.retrieve(jobId)` shows its details). */
  get jobId(): string | null {
    return this.response.headers.get("x-job-id");
  }

  get requestId(): string | null {
    return this.response.headers.get("x-request-id");
  }

  /** Whether the body has been read (or is being read). */
  get bodyUsed(): boolean {
    return this.response.bodyUsed;
  }

  arrayBuffer(): Promise<ArrayBuffer> {
    return this.response.arrayBuffer();
  }

  async bytes(): Promise<Uint8Array> {
    return new Uint8Array(await this.response.arrayBuffer());
  }

  blob(): Promise<Blob> {
    return this.response.blob();
  }

  text(): Promise<string> {
    return this.response.text();
  }

  /** The body as it arrives from the network (a streamed speech request gets its first audio while later
   * sentences are still being synthesised). */
  stream(): ReadableStream<Uint8Array> {
    const body = this.response.body;
    if (!body) return new ReadableStream({ start: (controller) => controller.close() });
    return body;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    const reader = this.stream().getReader();
    try {
      while (true) {
        const { done, value } = await reader.read();
        if (done) return;
        yield value;
      }
    } finally {
      reader.releaseLock();
    }
  }

  /** Node only: write the body to `path` chunk by chunk as it arrives (overwriting it); resolves with the path. */
  async save(path: string): Promise<string> {
    if (!isNode()) {
      throw new SpeechToSpeechAIError("save(path) needs Node's file system; in a browser use blob() or stream().");
    }
    const fs = await nodeImport<typeof import("node:fs/promises")>("node:fs/promises");
    const handle = await fs.open(path, "w");
    try {
      for await (const chunk of this) await handle.write(chunk);
    } finally {
      await handle.close();
    }
    return path;
  }

  /** Same as `save(path)` (the Python SDK's and OpenAI's name). */
  writeToFile(path: string): Promise<string> {
    return this.save(path);
  }

  toString(): string {
    return `[${this.constructor.name} ${this.contentType ?? "?"} job=${this.jobId ?? "-"}]`;
  }
}

/** The audio of `client.audio.speech.create` (and of a speech job's result). */
export class SpeechResponse extends BinaryResponse {}

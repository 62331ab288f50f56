/**
 * Upload inputs: a Blob or File, bytes (Uint8Array, ArrayBuffer, Buffer), `{ data, name?, type? }`, or (Node only)
 * a path string. Each is turned into a Blob once per call, so a retried upload sends the same bytes again.
 */

import { SpeechToSpeechAIError } from "./errors.js";
import { isNode, nodeImport } from "./runtime.js";

export type BinaryData = Blob | ArrayBuffer | ArrayBufferView;

/** What an upload parameter takes. A string is a file path, read with node:fs (Node only). */
export type Uploadable = BinaryData | string | { data: BinaryData; name?: string; type?: string };

/** One file part of a multipart request. */
export interface PreparedFile {
  blob: Blob;
  filename: string;
}

const DEFAULT_FILENAME = "upload";

const MIME_TYPES: Record<string, string> = {
  wav: "audio/wav",
  mp3: "audio/mpeg",
  flac: "audio/flac",
  ogg: "audio/ogg",
  oga: "audio/ogg",
  opus: "audio/opus",
  m4a: "audio/mp4",
  mp4: "video/mp4",
  aac: "audio/aac",
  webm: "audio/webm",
  pcm: "audio/pcm",
  jsonl: "application/jsonl",
  json: "application/json",
  txt: "text/plain",
};

/** The content type of a file name's extension, if it is a known audio (or batch input) type. */
export function guessContentType(filename: string): string | undefined {
  const dot = filename.lastIndexOf(".");
  return dot < 0 ? undefined : MIME_TYPES[filename.slice(dot + 1).toLowerCase()];
}

function basename(path: string): string {
  const parts = path.split(/[\\/]/);
  return parts[parts.length - 1] || DEFAULT_FILENAME;
}

function toBlob(data: BinaryData, type: string | undefined): Blob {
  if (typeof Blob !== "undefined" && data instanceof Blob) {
    return type && !data.type ? new Blob([data], { type }) : data;
  }
  if (data instanceof ArrayBuffer) return new Blob([data], type ? { type } : {});
  if (ArrayBuffer.isView(data)) {
    const view = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    return new Blob([view as unknown as BlobPart], type ? { type } : {});
  }
  throw new TypeError(
    `Expected a Blob, File, Uint8Array, ArrayBuffer, { data, name } or a path, got ${Object.prototype.toString.call(data)}.`,
  );
}

/** Read a file into an upload (Node only): `client.audio.transcriptions.create({ file: await fileFromPath("a.wav") })`.
 * Passing the path string itself does the same. */
export async function fileFromPath(
  path: string,
  options: { name?: string; type?: string } = {},
): Promise<PreparedFile> {
  if (!isNode()) {
    throw new SpeechToSpeechAIError("A file path can only be read in Node; in a browser pass a File or Blob.");
  }
  const fs = await nodeImport<typeof import("node:fs/promises")>("node:fs/promises");
  let data: Uint8Array;
  try {
    data = await fs.readFile(path);
  } catch (err) {
    const code = (err as { code?: string }).code;
    throw new SpeechToSpeechAIError(
      code === "ENOENT" ? `No such file: '${path}'.` : `Could not read '${path}': ${String(err)}.`,
      { cause: err },
    );
  }
  const filename = options.name ?? basename(path);
  return { blob: toBlob(data, options.type ?? guessContentType(filename)), filename };
}

/** An upload as a Blob and a file name. */
export async function prepareFile(value: Uploadable): Promise<PreparedFile> {
  if (value === null || value === undefined) {
    throw new TypeError("Expected a file to upload (a Blob, File, Uint8Array, ArrayBuffer, { data, name } or a path).");
  }
  if (typeof value === "string") return fileFromPath(value);
  if (isPrepared(value)) return value;
  if (typeof value === "object" && "data" in value && !(value instanceof ArrayBuffer) && !ArrayBuffer.isView(value)) {
    const name = value.name ?? fileName(value.data) ?? DEFAULT_FILENAME;
    return { blob: toBlob(value.data, value.type ?? guessContentType(name)), filename: name };
  }
  const data = value as BinaryData;
  const name = fileName(data) ?? DEFAULT_FILENAME;
  return { blob: toBlob(data, guessContentType(name)), filename: name };
}

function isPrepared(value: unknown): value is PreparedFile {
  return typeof value === "object" && value !== null && "blob" in value && "filename" in value;
}

function fileName(data: unknown): string | undefined {
  const name = (data as { name?: unknown }).name;
  return typeof name === "string" && name ? basename(name) : undefined;
}

/** Bytes as base64 (browsers and Node alike). */
export function base64Encode(bytes: Uint8Array): string {
  let binary = "";
  const step = 0x8000;
  for (let i = 0; i < bytes.length; i += step) {
    binary += String.fromCharCode(...bytes.subarray(i, i + step));
  }
  return btoa(binary);
}

/** base64 (standard alphabet) to bytes. */
export function base64Decode(text: string): Uint8Array {
  const binary = atob(text);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

/** A file as a base64 `data:` URL (how OpenAI's known_speaker_references[] carry audio in a form field). */
export async function dataURL(value: Uploadable): Promise<string> {
  const { blob, filename } = await prepareFile(value);
  const type = blob.type || guessContentType(filename) || "application/octet-stream";
  return `data:${type};base64,${base64Encode(new Uint8Array(await blob.arrayBuffer()))}`;
}

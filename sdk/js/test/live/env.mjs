// What the live tests share: whether a server is configured, the test data, and checks of real audio and text.
import { readFile } from "node:fs/promises";
import { join } from "node:path";

export const BASE_URL = process.env.S2S_BASE_URL;
export const API_KEY = process.env.S2S_API_KEY;
export const TESTDATA = process.env.S2S_TESTDATA;

/** `skip` option of the live suites: a reason when no server is configured (unit runs), else false. */
export const skipUnlessLive =
  BASE_URL && API_KEY
    ? false
    : "live tests need S2S_BASE_URL and S2S_API_KEY (the pytest wrapper tests/test_js_sdk.py sets them)";

export async function testdata(name) {
  if (!TESTDATA) throw new Error("set S2S_TESTDATA to the folder with jfk.flac and jfk.txt");
  return new Uint8Array(await readFile(join(TESTDATA, name)));
}

export async function testText(name) {
  return (await readFile(join(TESTDATA, name), "utf8")).trim();
}

/** The container a file's first bytes announce (RIFF/WAVE, ID3 or an MPEG frame, OggS, fLaC), or undefined. */
export function container(bytes) {
  const ascii = (start, end) => String.fromCharCode(...bytes.subarray(start, end));
  if (ascii(0, 4) === "RIFF" && ascii(8, 12) === "WAVE") return "wav";
  if (ascii(0, 3) === "ID3" || (bytes[0] === 0xff && (bytes[1] & 0xe0) === 0xe0)) return "mp3";
  if (ascii(0, 4) === "OggS") return "ogg";
  if (ascii(0, 4) === "fLaC") return "flac";
  return undefined;
}

/** Seconds of a 16-bit PCM WAV: its data chunk's size over its byte rate. */
export function wavSeconds(bytes) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const byteRate = view.getUint32(28, true);
  let offset = 12;
  while (offset + 8 <= bytes.length) {
    const id = String.fromCharCode(...bytes.subarray(offset, offset + 4));
    const size = view.getUint32(offset + 4, true);
    // a streamed WAV cannot know its length: its data size is a placeholder, the bytes that follow are the audio
    if (id === "data")
      return (
        (size === 0 || size === 0xffffffff || offset + 8 + size > bytes.length ? bytes.length - offset - 8 : size) /
        byteRate
      );
    offset += 8 + size;
  }
  return 0;
}

export function words(text) {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9' ]+/g, " ")
    .split(/\s+/)
    .filter(Boolean);
}

/** Word error rate of `hypothesis` against `reference` (word-level Levenshtein distance over reference length). */
export function wer(reference, hypothesis) {
  const ref = words(reference);
  const hyp = words(hypothesis);
  let previous = Array.from({ length: hyp.length + 1 }, (_, j) => j);
  for (let i = 1; i <= ref.length; i++) {
    const row = [i];
    for (let j = 1; j <= hyp.length; j++) {
      row[j] = Math.min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (ref[i - 1] === hyp[j - 1] ? 0 : 1));
    }
    previous = row;
  }
  return previous[hyp.length] / Math.max(ref.length, 1);
}

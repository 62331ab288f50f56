// Audio in the browser: play a response as it streams (MediaSource for mp3), look at a sample before cloning, and
// take a clip from a file input or the microphone.
import { errorText } from "./state";

/** Plays `stream` in `audio` as the bytes arrive where Media Source Extensions take the type (mp3 in Chromium,
 * Firefox, Safari), else once it is complete from a Blob URL. Resolves with the whole file. */
export async function playStream(
  audio: HTMLAudioElement,
  stream: ReadableStream<Uint8Array>,
  contentType: string,
  onBytes: (received: number) => void,
): Promise<Blob> {
  const mime = contentType.split(";")[0].trim() || "application/octet-stream";
  const chunks: Uint8Array<ArrayBuffer>[] = [];
  let received = 0;
  const reader = stream.getReader();
  const next = async (): Promise<Uint8Array<ArrayBuffer> | null> => {
    const { done, value } = await reader.read();
    if (done) return null;
    const chunk = new Uint8Array(value); // a copy the page owns (MediaSource and Blob both keep it)
    chunks.push(chunk);
    received += chunk.byteLength;
    onBytes(received);
    return chunk;
  };
  if (mime === "audio/mpeg" && typeof MediaSource !== "undefined" && MediaSource.isTypeSupported(mime)) {
    const source = new MediaSource();
    audio.src = URL.createObjectURL(source);
    await new Promise((resolve) => source.addEventListener("sourceopen", resolve, { once: true }));
    const buffer = source.addSourceBuffer(mime);
    buffer.mode = "sequence";
    let started = false;
    for (let chunk = await next(); chunk !== null; chunk = await next()) {
      await appendTo(buffer, chunk);
      if (!started) {
        started = true;
        audio.play().catch(() => undefined); // a browser that blocks autoplay leaves the controls to the user
      }
    }
    if (source.readyState === "open") source.endOfStream();
  } else {
    while ((await next()) !== null);
    audio.src = URL.createObjectURL(new Blob(chunks, { type: mime }));
    audio.play().catch(() => undefined);
  }
  return new Blob(chunks, { type: mime });
}

function appendTo(buffer: SourceBuffer, chunk: Uint8Array<ArrayBuffer>): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = () => {
      buffer.removeEventListener("updateend", done);
      buffer.removeEventListener("error", failed);
      resolve();
    };
    const failed = () => {
      buffer.removeEventListener("updateend", done);
      buffer.removeEventListener("error", failed);
      reject(new Error("The browser could not decode the audio stream."));
    };
    buffer.addEventListener("updateend", done);
    buffer.addEventListener("error", failed);
    buffer.appendBuffer(chunk);
  });
}

export interface SampleReport {
  seconds: number;
  peak: number;
  clippedFraction: number;
  rmsDb: number;
  warnings: string[];
}

/** Decodes a clone sample in the page and says what would make a poor voice: length, clipping, level. */
export async function inspectSample(file: Blob): Promise<SampleReport> {
  const context = new AudioContext();
  try {
    const decoded = await context.decodeAudioData(await file.arrayBuffer());
    let peak = 0, clipped = 0, sumSquares = 0, count = 0;
    for (let c = 0; c < decoded.numberOfChannels; c++) {
      const data = decoded.getChannelData(c);
      for (let i = 0; i < data.length; i++) {
        const v = Math.abs(data[i]);
        if (v > peak) peak = v;
        if (v >= 0.99) clipped++;
        sumSquares += v * v;
      }
      count += data.length;
    }
    const rms = Math.sqrt(sumSquares / Math.max(1, count));
    const rmsDb = rms > 0 ? 20 * Math.log10(rms) : -Infinity;
    const clippedFraction = clipped / Math.max(1, count);
    const warnings: string[] = [];
    const s = decoded.duration;
    if (s < 6) warnings.push(`The sample is only ${s.toFixed(1)} s long: 10–30 s of clear speech gives a much closer voice (under 6 s rarely works well).`);
    if (s > 60) warnings.push(`The sample is ${s.toFixed(0)} s long: over 60 s adds little, costs upload time and may hold other speakers or noise; trim it to the best 10–30 s.`);
    if (clippedFraction > 0.001) warnings.push(`${(clippedFraction * 100).toFixed(2)}% of the samples are clipped (at full scale): record at a lower level; distortion is copied into the voice.`);
    if (rmsDb < -40) warnings.push(`The recording is very quiet (${rmsDb.toFixed(0)} dBFS on average): move closer to the microphone or raise its gain.`);
    return { seconds: s, peak, clippedFraction, rmsDb, warnings };
  } finally {
    void context.close();
  }
}

/** The clip a page works on: the file chosen in `file`, or one recorded from the microphone with the `record`
 * button (which toggles recording; `recState` says what happened). `onChange` runs when either gives a new clip.
 * Returns the getter of the current clip. */
export function audioInput(
  file: HTMLInputElement,
  record: HTMLButtonElement,
  recState: HTMLElement,
  onChange: (clip: File) => void,
): () => File | null {
  let recorded: File | null = null;
  let recorder: MediaRecorder | null = null;
  const source = (): File | null => file.files?.[0] ?? recorded;
  const changed = () => {
    const clip = source();
    if (clip) onChange(clip);
  };
  file.addEventListener("change", () => {
    recorded = null;
    changed();
  });
  record.addEventListener("click", async () => {
    if (recorder) {
      recorder.stop();
      return;
    }
    try {
      const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
      const parts: Blob[] = [];
      recorder = new MediaRecorder(stream);
      recorder.addEventListener("dataavailable", (e) => parts.push(e.data));
      recorder.addEventListener("stop", () => {
        stream.getTracks().forEach((t) => t.stop());
        const type = recorder?.mimeType || "audio/webm";
        recorded = new File(parts, `recording.${type.includes("ogg") ? "ogg" : "webm"}`, { type });
        file.value = "";
        recorder = null;
        record.textContent = "Record from microphone";
        recState.textContent = `Recorded ${(recorded.size / 1024).toFixed(0)} kB.`;
        changed();
      });
      recorder.start();
      record.textContent = "Stop recording";
      recState.textContent = "Recording…";
    } catch (e) {
      recState.textContent = `The microphone is not available: ${errorText(e)}`;
    }
  });
  return source;
}

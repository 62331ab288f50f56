// Compiled (never run) by test/typings.test.mjs against the built declarations: what a TypeScript user writes
// type-checks, and what is wrong does not (each @ts-expect-error must be an error).
import {
  Client,
  ModelNotFoundError,
  SpeechResponse,
  StreamError,
  type Account,
  type ApiKeyCreated,
  type Diarization,
  type Job,
  type Transcription,
  type Usage,
  type Voice,
  type VoiceConversionResult,
  type WebhookEvent,
} from "speechtospeechai";

const client = new Client({ apiKey: "k", baseURL: "http://127.0.0.1:8000", timeout: 30_000, maxRetries: 1 });
const file = new Uint8Array([1, 2, 3]);

export async function typed(): Promise<void> {
  const audio: SpeechResponse = await client.audio.speech.create({ model: "piper", voice: "joe", input: "Hi" });
  const bytes: Uint8Array = await audio.bytes();
  const stream: ReadableStream<Uint8Array> = audio.stream();
  const saved: string = await audio.save("out.mp3");
  const queued: Job = await client.audio.speech.create({ model: "piper", voice: "joe", input: "Hi", wait: false });
  // @ts-expect-error not an audio format
  await client.audio.speech.create({ model: "piper", voice: "joe", input: "Hi", response_format: "mp4" });
  // @ts-expect-error the model is required
  await client.audio.speech.create({ voice: "joe", input: "Hi" });

  const json: Transcription = await client.audio.transcriptions.create({ file, model: "whisper-base" });
  const verbose: Transcription = await client.audio.transcriptions.create({ file, response_format: "verbose_json" });
  const srt: string = await client.audio.transcriptions.create({ file, response_format: "srt" });
  const rttm: string = await client.audio.transcriptions.create({ file: new Blob([file]), response_format: "rttm" });
  const job: Job = await client.audio.transcriptions.create({ file: "jfk.flac", wait: false });
  // @ts-expect-error a text format resolves with a string, not a Transcription
  const wrong: Transcription = await client.audio.transcriptions.create({ file, response_format: "vtt" });
  // @ts-expect-error not a transcription format
  await client.audio.transcriptions.create({ file, response_format: "mp3" });
  const words: number = json.words?.length ?? json.segments.length;

  for await (const event of client.audio.transcriptions.stream({ file, model: "whisper-base" })) {
    if (event.type === "transcript.text.delta") {
      const delta: string = event.delta;
    } else {
      const text: string = event.text;
      const id: string = event.job_id;
    }
  }
  const turns: Diarization = await client.audio.diarization.create({ file });
  const rttmTurns: string = await client.audio.diarization.create({ file, response_format: "rttm" });
  const english: string = await client.audio.translations.create({ file, response_format: "text" });

  const converted: SpeechResponse = await client.audio.voiceConversions.create({ file, voice: "af_bella" });
  const phrases: VoiceConversionResult = await client.audio.voiceConversions.retrieve(converted.jobId ?? "");
  const spoken: string = phrases.phrases.map((p) => `${p.start} ${p.speaker ?? ""} ${p.voice} ${p.text}`).join();
  const conversion: Job = await client.audio.voiceConversions.create({ file, voices: "auto", async: true });
  const later: Job = await client.audio.voiceConversions.create({ file, voice: "nova", wait: false });
  // @ts-expect-error voices is a speaker -> voice map or "auto"
  await client.audio.voiceConversions.create({ file, voices: "SPEAKER_00=af_bella" });
  // @ts-expect-error only English is a dubbing target
  await client.audio.voiceConversions.create({ file, voice: "nova", target_language: "fr" });
  for await (const event of client.audio.voiceConversions.stream({ file, voice: "nova" })) {
    const delta: string = event.type === "conversion.audio.delta" ? event.audio : event.job_id;
  }

  const voice: Voice = await client.voices.clone(
    { name: "Me", files: [file], consent: true },
    { signal: AbortSignal.timeout(1000) },
  );
  const finished: Job = await client.jobs.wait(job.id, { timeout: 60_000, onProgress: (j: Job) => j.progress });
  const transcript: Transcription = await client.jobs.transcription(job.id);
  const vtt: string = await client.jobs.transcription(job.id, { response_format: "vtt" });
  const account: Account = await client.account.retrieve();
  const key: ApiKeyCreated = await client.account.keys.create({ name: "ci", requests_per_minute: 60 });
  const secret: string = key.key;
  const usage: Usage = await client.usage.list({ from: "2026-11-01", to: new Date() });
  const event: WebhookEvent = await client.webhooks.unwrap("{}", new Headers(), "whsec_AAAA");
  // @ts-expect-error ids are strings
  await client.voices.retrieve(42);
}

export function errors(err: unknown): string | undefined {
  if (err instanceof ModelNotFoundError) {
    const status: number = err.status;
    return `${status} ${err.code} ${err.requestId}`;
  }
  if (err instanceof StreamError) return err.jobId;
  return undefined;
}

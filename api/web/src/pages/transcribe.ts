// Transcribe: upload or record, run a transcription job with its progress, show speakers and clickable word timings,
// and download the server's SRT, VTT, text or JSON rendering of it.
import { audioInput } from "../audio";
import { clear, download, field, formatSeconds, h, select, sentence } from "../dom";
import { client, errorText } from "../state";
import type { Job, Model, Segment, Transcription, Word } from "../types";

const SPEAKER_COLOURS = ["#0b5cad", "#a4161a", "#1a7f37", "#8250df", "#b35900", "#006d75", "#bf3989", "#6e5400"];
const DOWNLOADS: [string, string, string][] = [
  ["srt", "SRT subtitles", "srt"],
  ["vtt", "WebVTT subtitles", "vtt"],
  ["text", "Plain text", "txt"],
  ["verbose_json", "JSON", "json"],
];

export async function transcribePage(main: HTMLElement, signal: AbortSignal): Promise<void> {
  main.append(h("h1", null, "Transcribe"));
  let models: Model[];
  try {
    models = ((await client().models.list({ signal })) as unknown as { data: Model[] }).data.filter((m) => m.kind === "stt");
  } catch (e) {
    if (!signal.aborted) main.append(h("p", { class: "error" }, errorText(e)));
    return;
  }
  const file = h("input", { type: "file", name: "file", accept: "audio/*,video/*" });
  const record = h("button", { type: "button", class: "secondary", id: "record" }, "Record from microphone");
  const recState = h("span", { class: "hint", "aria-live": "polite" });
  const model = select(
    models.map((m) => [m.id, m.live ? m.id : `${m.id} (no live worker)`]),
    models.find((m) => m.id === "whisper-base" && m.live)?.id ?? models.find((m) => m.live)?.id,
    { name: "model" },
  );
  const language = h("input", { type: "text", name: "language", placeholder: "detect", maxlength: 35 });
  const diarize = h("input", { type: "checkbox", name: "diarization" });
  const channels = select([["mix", "Mix to mono"], ["split", "Each channel apart (one speaker per channel)"]], "mix", { name: "channels" });
  const timestamps = select([["word", "Words and segments"], ["segment", "Segments only"]], "word", { name: "timestamps" });
  const submit = h("button", { type: "submit", id: "transcribe-submit" }, "Transcribe");
  const cancel = h("button", { type: "button", class: "secondary", hidden: true }, "Cancel job");
  const error = h("div", { role: "alert" });
  const progress = h("progress", { max: 1, value: 0, hidden: true, "aria-label": "Job progress" });
  const status = h("p", { id: "transcribe-status", "aria-live": "polite" });
  const player = h("audio", { controls: true, id: "transcribe-audio", "aria-label": "The audio being transcribed", hidden: true });
  const output = h("div", { id: "transcript" });
  const downloads = h("div", { class: "row", id: "transcript-downloads" });

  const source = audioInput(file, record, recState, (clip) => {
    player.src = URL.createObjectURL(clip);
    player.hidden = false;
  });

  let jobId: string | null = null;
  cancel.addEventListener("click", async () => {
    if (!jobId) return;
    try {
      await client().jobs.cancel(jobId);
    } catch (e) {
      error.append(h("p", { class: "error" }, errorText(e)));
    }
  });

  const form = h(
    "form",
    { class: "card", "aria-label": "Speech to text" },
    h("div", { class: "grid" }, field("Audio or video file", file, "Any format FFmpeg reads."), h("div", { class: "field" }, h("span", { class: "hint" }, "or"), record, recState)),
    h("div", { class: "grid" }, field("Model", model), field("Language", language, "ISO 639-1 code, e.g. en; empty: detected"), field("Timestamps", timestamps), field("Channels", channels, "Split: a stereo call or interview, one speaker per channel")),
    field("Label speakers (diarization)", diarize, undefined, true),
    error,
    h("div", { class: "row" }, submit, cancel),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.replaceChildren();
    output.replaceChildren();
    downloads.replaceChildren();
    const audio = source();
    if (!audio) {
      error.append(h("p", { class: "error" }, "Choose a file or record something first."));
      return;
    }
    submit.disabled = true;
    progress.hidden = false;
    progress.value = 0;
    status.dataset.state = "running";
    status.textContent = `Uploading ${audio.name} (${(audio.size / 1024).toFixed(0)} kB)…`;
    try {
      const params: Record<string, unknown> = { file: audio, model: model.value, timestamps: timestamps.value, response_format: "json", wait: false };
      if (language.value.trim()) params.language = language.value.trim();
      if (diarize.checked) params.diarization = true;
      if (channels.value !== "mix") params.channels = channels.value;
      const job = (await client().audio.transcriptions.create(params as never)) as unknown as Job;
      jobId = job.id;
      cancel.hidden = false;
      const done = await follow(job, (j) => {
        progress.value = j.progress;
        status.textContent = `Job ${j.id}: ${j.status}, ${Math.round(j.progress * 100)}%`;
      }, signal);
      if (done.status !== "succeeded") throw new Error(sentence(`Job ${done.id} ${done.status}${done.error ? `: ${done.error.message}` : ""}`));
      const transcript = done.result as Transcription;
      status.textContent = `Done: ${transcript.duration ? `${transcript.duration.toFixed(1)} s of audio, ` : ""}language ${transcript.language ?? "?"}.`;
      status.dataset.state = "done";
      clear(output, renderTranscript(transcript, player));
      clear(downloads, DOWNLOADS.map(([fmt, label, ext]) => downloadButton(done.id, fmt, label, `${stem(audio.name)}.${ext}`, error)));
    } catch (e) {
      status.dataset.state = "failed";
      status.textContent = "";
      if (!signal.aborted) error.append(h("p", { class: "error" }, errorText(e)));
    } finally {
      submit.disabled = false;
      cancel.hidden = true;
      jobId = null;
    }
  });
  main.append(
    form,
    h("section", { class: "card", "aria-label": "Transcript" }, h("h2", null, "Transcript"), progress, status, player, output, h("h2", null, "Download"), downloads),
  );
}

function stem(name: string): string {
  return name.replace(/\.[^.]+$/, "") || "transcript";
}

/** Polls the job until it ends, reporting its progress. */
export async function follow(job: Job, onUpdate: (job: Job) => void, signal: AbortSignal): Promise<Job> {
  let current = job;
  onUpdate(current);
  while (current.status === "queued" || current.status === "running") {
    await new Promise((r) => setTimeout(r, 500));
    if (signal.aborted) throw new Error("Left the page.");
    current = (await client().jobs.retrieve(current.id)) as unknown as Job;
    onUpdate(current);
  }
  return current;
}

function downloadButton(jobId: string, fmt: string, label: string, filename: string, error: HTMLElement): HTMLButtonElement {
  const button = h("button", { type: "button", class: "secondary", "data-format": fmt }, label);
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      download(await transcriptBlob(jobId, fmt), filename);
    } catch (e) {
      error.append(h("p", { class: "error" }, errorText(e)));
    } finally {
      button.disabled = false;
    }
  });
  return button;
}

/** The server's rendering of a finished transcription job in `fmt` (GET /v1/jobs/{id}/result?response_format=). */
export async function transcriptBlob(jobId: string, fmt: string): Promise<Blob> {
  const body = await client().jobs.transcription(jobId, { response_format: fmt as never });
  return typeof body === "string"
    ? new Blob([body], { type: fmt === "srt" ? "application/x-subrip" : fmt === "vtt" ? "text/vtt" : "text/plain" })
    : new Blob([JSON.stringify(body, null, 2)], { type: "application/json" });
}

function renderTranscript(t: Transcription, player: HTMLAudioElement): Node {
  // who spoke: the summary's speakers, and any a segment or word names (a segment may hold words of two speakers)
  const named = [
    ...(t.speakers ?? []).map((s) => s.id),
    ...t.segments.flatMap((s) => [s.speaker, ...(s.words ?? []).map((w) => w.speaker)]),
  ];
  const speakers = [...new Set(named.filter((s): s is string => !!s))];
  const colour = (s: string | null | undefined) => (s ? SPEAKER_COLOURS[speakers.indexOf(s) % SPEAKER_COLOURS.length] : "inherit");
  const wordButtons: [Word, HTMLButtonElement][] = [];
  const seek = (time: number) => {
    player.currentTime = time;
    void player.play().catch(() => undefined);
  };
  const label = (speaker: string) => h("span", { class: "speaker", style: `color:${colour(speaker)}` }, `${speaker}:`);
  const segment = (s: Segment) => {
    const time = h("button", { type: "button", class: "word hint", "aria-label": `Play from ${formatSeconds(s.start)}`, onclick: () => seek(s.start) }, `[${formatSeconds(s.start)}]`);
    const parts: (Node | string)[] = [time, " "];
    if (s.words?.length) {
      let current: string | null | undefined;
      for (const w of s.words) {
        const speaker = w.speaker ?? s.speaker;
        if (speaker && speaker !== current) parts.push(label(speaker)); // a new turn inside the segment
        current = speaker;
        const b = h("button", { type: "button", class: "word", "data-start": w.start, "data-speaker": speaker ?? "", title: `${formatSeconds(w.start)}–${formatSeconds(w.end)}`, style: `color:${colour(speaker)}`, onclick: () => seek(w.start) }, w.word.trim());
        wordButtons.push([w, b]);
        parts.push(b, " ");
      }
    } else {
      if (s.speaker) parts.push(label(s.speaker));
      parts.push(h("span", { style: `color:${colour(s.speaker)}` }, s.text));
    }
    return h("p", { class: "segment", "data-speaker": s.speaker ?? "" }, ...parts);
  };
  player.ontimeupdate = () => {
    const now = player.currentTime;
    for (const [w, b] of wordButtons) b.classList.toggle("current", now >= w.start && now < w.end);
  };
  const legend = speakers.length
    ? h("ul", { class: "legend", "aria-label": "Speakers" }, speakers.map((s) => h("li", { style: `color:${colour(s)}` }, h("i", { style: `background:${colour(s)}` }), s)))
    : null;
  return h("div", { class: "transcript" }, legend, t.segments.length ? t.segments.map(segment) : h("p", null, t.text || "(no speech found)"));
}

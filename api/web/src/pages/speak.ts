// Speak: text to speech with a model, a preset or cloned voice, speed, emotion and format; plays as it streams.
import { playStream } from "../audio";
import { clear, field, h, select } from "../dom";
import type { AudioFormat, Emotion, SpeechCreateParams } from "speechtospeechai";
import { client, errorText, serverConfig } from "../state";
import type { Model, Voice } from "../types";

const FORMATS: [string, string][] = [
  ["mp3", "MP3 (plays while it streams)"],
  ["wav", "WAV"],
  ["ogg", "Ogg Opus"],
  ["flac", "FLAC"],
  ["aac", "AAC"],
  ["opus", "Opus"],
];
const EXTENSIONS: Record<string, string> = { mp3: "mp3", wav: "wav", ogg: "ogg", flac: "flac", aac: "aac", opus: "opus" };

export async function speakPage(main: HTMLElement, signal: AbortSignal): Promise<void> {
  main.append(h("h1", null, "Speak"), h("p", { id: "speak-loading" }, "Loading models and voices…"));
  let models: Model[], cloned: Voice[], maxChars: number;
  try {
    const [modelList, voiceList, config] = await Promise.all([
      client().models.list({ signal }) as unknown as Promise<{ data: Model[] }>,
      client().voices.list({}, { signal }) as unknown as Promise<{ data: Voice[] }>,
      serverConfig(),
    ]);
    models = modelList.data.filter((m) => m.kind === "tts");
    cloned = voiceList.data.filter((v) => v.status === "ready");
    maxChars = config.max_input_chars;
  } catch (e) {
    if (!signal.aborted) clear(main, h("h1", null, "Speak"), h("p", { class: "error" }, errorText(e)));
    return;
  }
  document.getElementById("speak-loading")?.remove();

  const text = h("textarea", { name: "input", required: true, placeholder: "Type what to say…" });
  const counter = h("span", { id: "char-count", "aria-live": "polite" });
  const live = models.filter((m) => m.live);
  const model = select(
    models.map((m) => [m.id, m.live ? `${m.id} — ${m.family}` : `${m.id} (no live worker)`]),
    (live.find((m) => m.id === "piper") ?? live[0] ?? models[0])?.id,
    { name: "model" },
  );
  const voice = h("select", { name: "voice" });
  const preview = h("button", { type: "button", class: "secondary", id: "voice-preview" }, "Preview voice");
  const previewAudio = h("audio", { controls: true, hidden: true, "aria-label": "Voice preview" });
  const speed = h("input", { type: "range", name: "speed", min: 0.5, max: 2, step: 0.05, value: "1" });
  const speedOut = h("output", { for: speed.id }, "1.00×");
  const emotion = select([["", "none"], ["neutral", "neutral"], ["happy", "happy"], ["sad", "sad"], ["angry", "angry"]], "", { name: "emotion" });
  const emotionField = field("Emotion", emotion, "This model takes an emotion tag.");
  const format = select(FORMATS, "mp3", { name: "format" });
  const submit = h("button", { type: "submit", id: "speak-submit" }, "Speak");
  const stop = h("button", { type: "button", class: "secondary", disabled: true }, "Stop");
  const error = h("div", { role: "alert" });
  const status = h("p", { id: "speech-status", "aria-live": "polite" });
  const audio = h("audio", { controls: true, id: "speech-audio", "aria-label": "Synthesized speech" });
  const downloadLink = h("a", { class: "button secondary", id: "speech-download", hidden: true }, "Download");

  const spec = () => models.find((m) => m.id === model.value);
  const fillVoices = () => {
    const m = spec();
    const target = m?.alias_of ?? m?.id ?? "";
    const presets = (m?.voices ?? []).map((v) => {
      const labels = m?.voice_labels?.[v];
      const extra = labels ? Object.values(labels).join(", ") : "";
      return h("option", { value: v }, extra ? `${v} (${extra})` : v);
    });
    const mine = cloned.filter((v) => v.models.includes(target) || v.models.includes(m?.id ?? ""));
    clear(
      voice,
      presets.length ? h("optgroup", { label: "Preset voices" }, presets) : null,
      mine.length ? h("optgroup", { label: "Your voices" }, mine.map((v) => h("option", { value: v.id }, `${v.name} (cloned)`))) : null,
    );
    if (m?.voices.includes("joe")) voice.value = "joe";
    emotionField.hidden = !m?.emotions;
    if (!m?.emotions) emotion.value = "";
  };
  const count = () => {
    const n = text.value.length;
    counter.textContent = `${n} / ${maxChars} characters`;
    counter.className = n > maxChars ? "error" : "hint";
    submit.disabled = n === 0 || n > maxChars;
  };
  model.addEventListener("change", fillVoices);
  text.addEventListener("input", count);
  speed.addEventListener("input", () => (speedOut.textContent = `${Number(speed.value).toFixed(2)}×`));
  fillVoices();
  count();

  preview.addEventListener("click", async () => {
    preview.disabled = true;
    error.replaceChildren();
    try {
      const chosen = cloned.find((v) => v.id === voice.value);
      const response = chosen
        ? await client().voices.preview(chosen.id)
        : await client().audio.speech.create({ model: model.value, voice: voice.value, input: "Hello! This is how I sound.", response_format: "mp3", stream: false });
      previewAudio.src = URL.createObjectURL(await response.blob());
      previewAudio.hidden = false;
      await previewAudio.play().catch(() => undefined);
    } catch (e) {
      error.append(h("p", { class: "error" }, `Preview failed: ${errorText(e)}`));
    } finally {
      preview.disabled = false;
    }
  });

  let running: AbortController | null = null;
  stop.addEventListener("click", () => running?.abort());
  const form = h(
    "form",
    { class: "card", "aria-label": "Text to speech" },
    field("Text", text, counter),
    h("div", { class: "grid" }, field("Model", model), field("Voice", voice)),
    h("div", { class: "row" }, preview, previewAudio),
    h("div", { class: "grid" }, field("Speed", speed, speedOut), emotionField, field("Format", format)),
    error,
    h("div", { class: "row" }, submit, stop),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.replaceChildren();
    running = new AbortController();
    submit.disabled = true;
    stop.disabled = false;
    downloadLink.hidden = true;
    status.textContent = "Synthesizing…";
    status.dataset.state = "running";
    const fmt = format.value;
    try {
      const params: SpeechCreateParams & { wait?: true } = {
        model: model.value,
        voice: voice.value,
        input: text.value,
        response_format: fmt as AudioFormat,
        speed: Number(speed.value),
        stream: true,
      };
      if (emotion.value) params.emotion = emotion.value as Emotion;
      const response = await client().audio.speech.create(params, { signal: running.signal });
      const t0 = performance.now();
      const blob = await playStream(audio, response.stream(), response.contentType ?? "", (bytes) => {
        status.textContent = `Receiving audio… ${(bytes / 1024).toFixed(0)} kB`;
      });
      downloadLink.href = URL.createObjectURL(blob);
      downloadLink.download = `speech.${EXTENSIONS[fmt] ?? fmt}`;
      downloadLink.hidden = false;
      status.textContent = `Done: ${(blob.size / 1024).toFixed(0)} kB of ${fmt} in ${((performance.now() - t0) / 1000).toFixed(1)} s${response.requestId ? ` (request ${response.requestId})` : ""}.`;
      status.dataset.state = "done";
    } catch (e) {
      status.textContent = "";
      status.dataset.state = "failed";
      error.append(h("p", { class: "error" }, running.signal.aborted ? "Stopped." : errorText(e)));
    } finally {
      running = null;
      stop.disabled = true;
      count();
    }
  });
  main.append(form, h("section", { class: "card", "aria-label": "Result" }, h("h2", null, "Result"), status, audio, h("div", { class: "row" }, downloadLink)));
}

// Convert (speech to speech, A/B): upload or record a clip, pick a target voice (a preset or a cloned one), let each
// speaker get their own voice or dub into English, then hear the original (A) and the converted audio (B) side by
// side, with the phrases the job placed: when, who, in which voice, what.
import { audioInput } from "../audio";
import { clear, field, formatSeconds, h, select, sentence } from "../dom";
import type { AudioFormat, Phrase, PresetVoice, VoiceConversionResult } from "speechtospeechai";
import { client, errorText } from "../state";
import type { Job, Model, Voice } from "../types";
import { follow } from "./transcribe";

const FORMATS: [string, string][] = [
  ["mp3", "MP3"],
  ["wav", "WAV"],
  ["ogg", "Ogg Opus"],
  ["flac", "FLAC"],
];
const DEFAULT_VOICE = "af_bella";

export async function convertPage(main: HTMLElement, signal: AbortSignal): Promise<void> {
  main.append(h("h1", null, "Convert"), h("p", { id: "convert-loading" }, "Loading voices…"));
  let presets: PresetVoice[], cloned: Voice[], models: Model[];
  try {
    const [voiceList, modelList] = await Promise.all([client().voices.list({}, { signal }), client().models.list({ signal })]);
    presets = voiceList.presets ?? [];
    cloned = voiceList.data.filter((v) => v.status === "ready");
    models = modelList.data.filter((m) => m.kind === "vc" || m.converts === true);
  } catch (e) {
    if (!signal.aborted) clear(main, h("h1", null, "Convert"), h("p", { class: "error" }, errorText(e)));
    return;
  }
  document.getElementById("convert-loading")?.remove();

  const file = h("input", { type: "file", name: "file", accept: "audio/*,video/*" });
  const record = h("button", { type: "button", class: "secondary", id: "convert-record" }, "Record from microphone");
  const recState = h("span", { class: "hint", "aria-live": "polite" });
  const voice = h("select", { name: "voice" });
  const byModel = new Map<string, PresetVoice[]>();
  for (const p of presets) byModel.set(p.model, [...(byModel.get(p.model) ?? []), p]);
  const presetLabel = (p: PresetVoice) => {
    const labels = Object.values(p.labels ?? {}).filter(Boolean).join(", ");
    return labels ? `${p.id} (${labels})` : p.id;
  };
  clear(
    voice,
    [...byModel].map(([model, list]) => h("optgroup", { label: `Preset voices — ${model}` }, list.map((p) => h("option", { value: p.id, "data-model": p.model }, presetLabel(p))))),
    cloned.length ? h("optgroup", { label: "Your voices" }, cloned.map((v) => h("option", { value: v.id }, `${v.name} (cloned)`))) : null,
  );
  if (presets.some((p) => p.id === DEFAULT_VOICE)) voice.value = DEFAULT_VOICE;
  const modelOptions: [string, string][] = models.length
    ? models.map((m) => [m.id, m.live === false ? `${m.id} (no live worker)` : m.family ? `${m.id} — ${m.family}` : m.id])
    : [["revoice", "revoice"]];
  const model = select(modelOptions, models.some((m) => m.id === "revoice") || !models.length ? "revoice" : models[0].id, { name: "model" });
  const perSpeaker = h("input", { type: "checkbox", name: "speakers-own-voices" });
  const dub = h("input", { type: "checkbox", name: "dub-english" });
  const format = select(FORMATS, "mp3", { name: "format" });
  const submit = h("button", { type: "submit", id: "convert-submit" }, "Convert");
  const cancel = h("button", { type: "button", class: "secondary", hidden: true }, "Cancel job");
  const error = h("div", { role: "alert" });
  const progress = h("progress", { max: 1, value: 0, hidden: true, "aria-label": "Job progress" });
  const status = h("p", { id: "convert-status", "aria-live": "polite" });
  const original = h("audio", { controls: true, id: "convert-original", "aria-label": "A: the original" });
  const converted = h("audio", { controls: true, id: "convert-converted", "aria-label": "B: the converted audio" });
  const swap = h("button", { type: "button", class: "secondary", id: "convert-swap", disabled: true }, "Switch A ⇄ B");
  const downloadLink = h("a", { class: "button secondary", id: "convert-download", hidden: true }, "Download B");
  const phrases = h("div", { id: "convert-phrases" });

  perSpeaker.addEventListener("change", () => {
    // voices=auto: each speaker gets a distinct preset voice picked by their pitch
    voice.disabled = perSpeaker.checked;
  });

  const source = audioInput(file, record, recState, (clip) => {
    original.src = URL.createObjectURL(clip);
  });

  // A/B: carry on from the same moment in the other recording (both keep the source's timeline)
  swap.addEventListener("click", () => {
    const [from, to] = converted.paused && !original.paused ? [original, converted] : [converted, original];
    const at = from.currentTime;
    from.pause();
    to.currentTime = Math.min(at, Number.isFinite(to.duration) ? to.duration : at);
    void to.play().catch(() => undefined);
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
    { class: "card", "aria-label": "Speech to speech" },
    h("div", { class: "grid" }, field("Speech to convert", file, "Any format FFmpeg reads."), h("div", { class: "field" }, h("span", { class: "hint" }, "or"), record, recState)),
    h("div", { class: "grid" }, field("Target voice", voice, "A preset voice or one you cloned."), field("Model", model), field("Format", format)),
    field("Speakers get their own voices", perSpeaker, "Finds the speakers and picks a distinct voice for each one by their pitch.", true),
    field("Dub into English", dub, "The speech is translated and re-spoken in English on the same timeline.", true),
    error,
    h("div", { class: "row" }, submit, cancel),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.replaceChildren();
    phrases.replaceChildren();
    downloadLink.hidden = true;
    swap.disabled = true;
    converted.removeAttribute("src");
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
    const fmt = format.value as AudioFormat;
    try {
      const job = await client().audio.voiceConversions.create({
        file: audio,
        model: model.value,
        response_format: fmt,
        ...(perSpeaker.checked ? { diarization: true, voices: "auto" as const } : { voice: voice.value }),
        ...(dub.checked ? { target_language: "en" as const } : {}),
        async: true,
      });
      jobId = job.id;
      cancel.hidden = false;
      const done: Job = await follow(job, (j) => {
        progress.value = j.progress;
        status.textContent = `Job ${j.id}: ${j.status}, ${Math.round(j.progress * 100)}%`;
      }, signal);
      if (done.status !== "succeeded") throw new Error(sentence(`Job ${done.id} ${done.status}${done.error ? `: ${done.error.message}` : ""}`));
      const result = done.result as VoiceConversionResult;
      const blob = await (await client().jobs.result(done.id)).blob();
      converted.src = URL.createObjectURL(blob);
      downloadLink.href = converted.src;
      downloadLink.download = `${stem(audio.name)}-${perSpeaker.checked ? "voices" : voice.value}.${fmt}`;
      downloadLink.hidden = false;
      swap.disabled = false;
      clear(phrases, phraseTable(result.phrases, original, converted));
      const who = Object.entries(result.voices ?? {}).map(([speaker, v]) => (speaker ? `${speaker} → ${v}` : v)).join(", ");
      status.textContent = `Done: ${result.duration.toFixed(1)} s in ${result.phrases.length} phrases${result.language ? `, from ${result.language}` : ""}${result.target_language ? ` into ${result.target_language}` : ""}${who ? ` (${who})` : ""}.`;
      status.dataset.state = "done";
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
    h(
      "section",
      { class: "card", "aria-label": "A/B comparison" },
      h("h2", null, "A/B"),
      progress,
      status,
      h(
        "div",
        { class: "ab" },
        h("figure", null, h("figcaption", null, "A — original"), original),
        h("figure", null, h("figcaption", null, "B — converted"), converted),
      ),
      h("div", { class: "row" }, swap, downloadLink),
      h("h2", null, "Phrases"),
      phrases,
    ),
  );
}

function stem(name: string): string {
  return name.replace(/\.[^.]+$/, "") || "speech";
}

/** The phrases of the output: a start that plays both recordings from there, the speaker, the voice, the text. */
function phraseTable(list: Phrase[], original: HTMLAudioElement, converted: HTMLAudioElement): Node {
  if (!list.length) return h("p", null, "(no speech found)");
  const play = (player: HTMLAudioElement, other: HTMLAudioElement, at: number) => {
    other.pause();
    player.currentTime = at;
    void player.play().catch(() => undefined);
  };
  return h(
    "table",
    { class: "phrases" },
    h("thead", null, h("tr", null, h("th", { scope: "col" }, "Start"), h("th", { scope: "col" }, "Speaker"), h("th", { scope: "col" }, "Voice"), h("th", { scope: "col" }, "Text"), h("th", { scope: "col" }, "Play"))),
    h(
      "tbody",
      null,
      list.map((p) =>
        h(
          "tr",
          { "data-start": p.start },
          h("td", null, formatSeconds(p.start)),
          h("td", null, p.speaker ?? "—"),
          h("td", null, p.voice),
          h("td", { title: p.tempo !== 1 ? `time-stretched ×${p.tempo.toFixed(2)}` : undefined }, p.text),
          h(
            "td",
            null,
            h("button", { type: "button", class: "secondary", "aria-label": `Play A from ${formatSeconds(p.source_start)}`, onclick: () => play(original, converted, p.source_start) }, "A"),
            " ",
            h("button", { type: "button", class: "secondary", "aria-label": `Play B from ${formatSeconds(p.start)}`, onclick: () => play(converted, original, p.start) }, "B"),
          ),
        ),
      ),
    ),
  );
}

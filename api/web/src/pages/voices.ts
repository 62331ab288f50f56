// Voices: a clone wizard (the sample is checked in the page before it is sent; the speaker's consent is asked as the
// server requires), and the account's cloned voices with preview and delete.
import { inspectSample } from "../audio";
import { clear, field, formatDate, h, select, sentence, toast } from "../dom";
import { client, errorText, serverConfig } from "../state";
import type { Job, Model, ServerConfig, Voice } from "../types";
import { follow } from "./transcribe";

export async function voicesPage(main: HTMLElement, signal: AbortSignal): Promise<void> {
  main.append(h("h1", null, "Voices"));
  let models: Model[], config: ServerConfig;
  try {
    [models, config] = await Promise.all([
      (client().models.list({ signal }) as unknown as Promise<{ data: Model[] }>).then((l) => l.data.filter((m) => m.kind === "tts" && m.can_clone)),
      serverConfig(),
    ]);
  } catch (e) {
    if (!signal.aborted) main.append(h("p", { class: "error" }, errorText(e)));
    return;
  }
  const list = h("div", { id: "voices-list" }, h("p", null, "Loading…"));
  const refresh = async () => {
    try {
      const page = (await client().voices.list({}, { signal })) as unknown as { data: Voice[] };
      clear(list, voicesTable(page.data, refresh));
    } catch (e) {
      if (!signal.aborted) clear(list, h("p", { class: "error" }, errorText(e)));
    }
  };
  main.append(cloneWizard(models, config, refresh, signal), h("section", { class: "card", "aria-labelledby": "voices-title" }, h("h2", { id: "voices-title" }, "Your voices"), list));
  await refresh();
}

function cloneWizard(models: Model[], config: ServerConfig, refresh: () => Promise<void>, signal: AbortSignal): HTMLElement {
  const sample = h("input", { type: "file", name: "sample", accept: "audio/*,video/*", required: true });
  const report = h("div", { id: "sample-report", "aria-live": "polite" });
  const samplePlayer = h("audio", { controls: true, hidden: true, "aria-label": "The sample" });
  const name = h("input", { type: "text", name: "voice-name", required: true, maxlength: 200 });
  const description = h("input", { type: "text", name: "voice-description", maxlength: 1000 });
  const language = h("input", { type: "text", name: "voice-language", maxlength: 35, placeholder: "detect" });
  const model = select([["", "best available"], ...models.map((m): [string, string] => [m.id, m.live ? m.id : `${m.id} (no live worker)`])], "", { name: "voice-model" });
  const consent = h("input", { type: "checkbox", name: "consent", required: config.clone_consent !== "none" });
  const statement = h("input", { type: "text", name: "consent-statement", maxlength: 1000, placeholder: "e.g. signed release form, 2026-05-01" });
  const recording = h("input", { type: "file", name: "consent-recording", accept: "audio/*", required: config.clone_consent === "recording" });
  const error = h("div", { role: "alert" });
  const status = h("p", { id: "clone-status", "aria-live": "polite" });
  const submit = h("button", { type: "submit", id: "clone-submit" }, "Clone voice");

  sample.addEventListener("change", async () => {
    report.replaceChildren();
    const f = sample.files?.[0];
    if (!f) return;
    samplePlayer.src = URL.createObjectURL(f);
    samplePlayer.hidden = false;
    if (!name.value) name.value = f.name.replace(/\.[^.]+$/, "");
    if (f.size > config.max_upload_bytes) {
      report.append(h("p", { class: "error" }, `The file is ${(f.size / 1e6).toFixed(0)} MB: this server takes at most ${(config.max_upload_bytes / 1e6).toFixed(0)} MB.`));
      return;
    }
    try {
      const r = await inspectSample(f);
      report.append(h("p", { class: "hint" }, `${r.seconds.toFixed(1)} s, peak ${(20 * Math.log10(Math.max(r.peak, 1e-9))).toFixed(1)} dBFS, average ${r.rmsDb.toFixed(0)} dBFS.`));
      for (const w of r.warnings) report.append(h("p", { class: "warning" }, w));
      if (!r.warnings.length) report.append(h("p", { class: "ok" }, "The sample looks good for cloning."));
    } catch {
      report.append(h("p", { class: "warning" }, "This browser cannot decode the file to check it; the server will (it reads any format FFmpeg does)."));
    }
  });

  const consentHint =
    config.clone_consent === "none"
      ? "This server does not require it, but clone only voices you have permission to use."
      : "Required: the server stores this attestation with the voice.";
  const form = h(
    "form",
    { class: "card", "aria-labelledby": "clone-title" },
    h("h2", { id: "clone-title" }, "Clone a voice"),
    h("h3", null, "1. The sample"),
    field("Recording of the speaker", sample, "10–30 s of one person speaking clearly, no music or other voices."),
    samplePlayer,
    report,
    h("h3", null, "2. The voice"),
    h("div", { class: "grid" }, field("Name", name), field("Description", description), field("Language", language, "e.g. en; empty: detected"), field("Model", model)),
    h("h3", null, "3. Consent"),
    field("The speaker of this recording agreed to have their voice cloned", consent, consentHint, true),
    field("How consent was given (optional)", statement, "Kept with the voice as its consent record."),
    config.clone_consent === "recording"
      ? field("Consent recording", recording, `This server also needs the speaker reading: “${config.consent_phrase}”`)
      : null,
    error,
    status,
    submit,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.replaceChildren();
    const f = sample.files?.[0];
    if (!f) return;
    if (config.clone_consent !== "none" && !consent.checked) {
      error.append(h("p", { class: "error" }, "Confirm that the speaker agreed before cloning their voice."));
      return;
    }
    submit.disabled = true;
    status.dataset.state = "running";
    status.textContent = "Uploading the sample…";
    try {
      const params: Record<string, unknown> = { name: name.value.trim(), file: f, consent: consent.checked, wait: false };
      if (description.value.trim()) params.description = description.value.trim();
      if (language.value.trim()) params.language = language.value.trim();
      if (model.value) params.model = model.value;
      if (statement.value.trim()) params.consent_statement = statement.value.trim();
      if (config.clone_consent === "recording" && recording.files?.[0]) params.consent_recording = recording.files[0];
      let voice = (await client().voices.clone(params as never)) as unknown as Voice;
      if (voice.status === "processing" && voice.job_id) {
        await follow({ id: voice.job_id, status: "queued", progress: 0 } as Job, (j) => (status.textContent = `Enrolling the voice: ${j.status}, ${Math.round(j.progress * 100)}%`), signal);
        voice = (await client().voices.retrieve(voice.id)) as unknown as Voice;
      }
      if (voice.status !== "ready") throw new Error(sentence(`The voice ${voice.status}: ${voice.error ?? "no reason given"}`));
      status.textContent = `Voice “${voice.name}” is ready (${voice.id}).${voice.warnings.length ? ` Warnings: ${voice.warnings.join(" ")}` : ""}`;
      status.dataset.state = "done";
      form.reset();
      report.replaceChildren();
      samplePlayer.hidden = true;
      await refresh();
    } catch (e) {
      status.textContent = "";
      status.dataset.state = "failed";
      error.append(h("p", { class: "error" }, errorText(e)));
      void refresh(); // a voice whose enrollment failed is listed, with its reason
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}

function voicesTable(voices: Voice[], refresh: () => Promise<void>): Node {
  if (!voices.length) return h("p", null, "No cloned voices yet.");
  const player = h("audio", { controls: true, hidden: true, id: "voice-preview-audio", "aria-label": "Voice preview" });
  const rows = voices.map((v) => {
    const preview = h("button", { type: "button", class: "secondary", disabled: v.status !== "ready", "aria-label": `Preview ${v.name}` }, "Preview");
    preview.addEventListener("click", async () => {
      preview.disabled = true;
      try {
        const audio = await client().voices.preview(v.id);
        player.src = URL.createObjectURL(await audio.blob());
        player.hidden = false;
        await player.play().catch(() => undefined);
      } catch (e) {
        toast(errorText(e));
      } finally {
        preview.disabled = false;
      }
    });
    const remove = h("button", { type: "button", class: "danger", "aria-label": `Delete ${v.name}` }, "Delete");
    remove.addEventListener("click", async () => {
      if (!confirm(`Delete the voice “${v.name}”? Its samples are deleted too.`)) return;
      try {
        await client().voices.delete(v.id);
        toast(`Voice ${v.name} deleted.`);
        await refresh();
      } catch (e) {
        toast(errorText(e));
      }
    });
    return h(
      "tr",
      { "data-voice-id": v.id, "data-voice-name": v.name },
      h("td", null, v.name),
      h("td", null, h("span", { class: `badge ${v.status}` }, v.status), v.error ? h("div", { class: "error" }, v.error) : null),
      h("td", null, v.model, v.language ? ` (${v.language})` : ""),
      h("td", null, formatDate(v.created_at)),
      h("td", null, v.warnings.map((w) => h("div", { class: "warning" }, w))),
      h("td", null, h("div", { class: "row" }, preview, remove)),
    );
  });
  return h(
    "div",
    null,
    h("table", { id: "voices-table" }, h("thead", null, h("tr", null, ["Name", "Status", "Model", "Created", "Warnings", ""].map((c) => h("th", { scope: "col" }, c)))), h("tbody", null, rows)),
    player,
  );
}

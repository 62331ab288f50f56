// Jobs and batches: status and progress (refreshed while any is active), cancel, download results.
import { clear, download, formatDate, h, select, toast } from "../dom";
import { client, errorText } from "../state";
import type { Job } from "../types";
import { transcriptBlob } from "./transcribe";

interface Batch {
  id: string;
  endpoint: string;
  status: string;
  created_at: number;
  output_file_id?: string | null;
  error_file_id?: string | null;
  request_counts: { total: number; completed: number; failed: number };
}

const ACTIVE = new Set(["queued", "running", "validating", "in_progress", "finalizing", "cancelling"]);
const EXT: Record<string, string> = { "audio/mpeg": "mp3", "audio/wav": "wav", "audio/ogg": "ogg", "audio/flac": "flac", "audio/aac": "aac" };

export async function jobsPage(main: HTMLElement, signal: AbortSignal): Promise<void> {
  const jobsBox = h("div", { id: "jobs-list" }, h("p", null, "Loading…"));
  const batchesBox = h("div", { id: "batches-list" }, h("p", null, "Loading…"));
  const kind = select([["", "all kinds"], ["tts", "speech"], ["stt", "transcription"], ["clone", "clone"], ["design", "design"], ["vc", "speech to speech"]], "", { id: "jobs-kind" });
  const refreshButton = h("button", { type: "button", class: "secondary" }, "Refresh");
  main.append(
    h("h1", null, "Jobs"),
    h("section", { class: "card", "aria-labelledby": "jobs-title" }, h("h2", { id: "jobs-title" }, "Jobs"), h("div", { class: "row" }, h("label", { for: "jobs-kind" }, "Show"), kind, refreshButton), jobsBox),
    h("section", { class: "card", "aria-labelledby": "batches-title" }, h("h2", { id: "batches-title" }, "Batches"), batchesBox),
  );
  let timer = 0;
  const refresh = async () => {
    window.clearTimeout(timer);
    let active = false;
    try {
      const params: Record<string, unknown> = { limit: 50 };
      if (kind.value) params.kind = kind.value;
      const page = (await client().jobs.list(params, { signal })) as unknown as { data: Job[] };
      active ||= page.data.some((j) => ACTIVE.has(j.status));
      clear(jobsBox, jobsTable(page.data, refresh));
    } catch (e) {
      if (!signal.aborted) clear(jobsBox, h("p", { class: "error" }, errorText(e)));
    }
    try {
      const page = (await client().batches.list({ limit: 20 }, { signal })) as unknown as { data: Batch[] };
      active ||= page.data.some((b) => ACTIVE.has(b.status));
      clear(batchesBox, batchesTable(page.data, refresh));
    } catch (e) {
      if (!signal.aborted) clear(batchesBox, h("p", { class: "error" }, errorText(e)));
    }
    if (active && !signal.aborted) timer = window.setTimeout(() => void refresh(), 2000);
  };
  signal.addEventListener("abort", () => window.clearTimeout(timer));
  kind.addEventListener("change", () => void refresh());
  refreshButton.addEventListener("click", () => void refresh());
  await refresh();
}

function jobsTable(jobs: Job[], refresh: () => Promise<void>): Node {
  if (!jobs.length) return h("p", null, "No jobs yet.");
  return h(
    "table",
    { id: "jobs-table" },
    h("thead", null, h("tr", null, ["Job", "Kind", "Model", "Status", "Progress", "Created", ""].map((c) => h("th", { scope: "col" }, c)))),
    h(
      "tbody",
      null,
      jobs.map((j) => {
        const actions = h("div", { class: "row" });
        if (ACTIVE.has(j.status)) {
          const cancel = h("button", { type: "button", class: "danger", "aria-label": `Cancel job ${j.id}` }, "Cancel");
          cancel.addEventListener("click", async () => {
            cancel.disabled = true;
            try {
              await client().jobs.cancel(j.id);
              toast(`Job ${j.id} cancelled.`);
              await refresh();
            } catch (e) {
              toast(errorText(e));
              cancel.disabled = false;
            }
          });
          actions.append(cancel);
        }
        if (j.status === "succeeded" && (j.kind === "tts" || j.kind === "stt" || j.kind === "vc")) {
          const fmt = j.kind === "stt" ? select([["srt", "SRT"], ["vtt", "VTT"], ["text", "Text"], ["verbose_json", "JSON"]], "srt", { "aria-label": `Format of job ${j.id}'s transcript` }) : null;
          const get = h("button", { type: "button", class: "secondary", "aria-label": `Download the result of job ${j.id}` }, "Download");
          get.addEventListener("click", async () => {
            get.disabled = true;
            try {
              const blob = fmt ? await transcriptBlob(j.id, fmt.value) : await (await client().jobs.result(j.id)).blob();
              const ext = fmt ? { srt: "srt", vtt: "vtt", text: "txt", verbose_json: "json" }[fmt.value] : EXT[blob.type.split(";")[0]] ?? "bin";
              download(blob, `${j.id}.${ext}`);
            } catch (e) {
              toast(errorText(e));
            } finally {
              get.disabled = false;
            }
          });
          actions.append(...(fmt ? [fmt, get] : [get]));
        }
        return h(
          "tr",
          { "data-job-id": j.id },
          h("td", null, h("code", null, j.id)),
          h("td", null, j.kind),
          h("td", null, j.model),
          h("td", null, h("span", { class: `badge ${j.status}` }, j.status), j.error ? h("div", { class: "error" }, j.error.message) : null),
          h("td", null, h("progress", { max: 1, value: j.progress, "aria-label": `Progress of job ${j.id}` }), ` ${Math.round(j.progress * 100)}%`),
          h("td", null, formatDate(j.created_at)),
          h("td", null, actions),
        );
      }),
    ),
  );
}

function batchesTable(batches: Batch[], refresh: () => Promise<void>): Node {
  if (!batches.length) return h("p", null, "No batches. Create them with the API (POST /v1/batches) or an SDK.");
  return h(
    "table",
    { id: "batches-table" },
    h("thead", null, h("tr", null, ["Batch", "Endpoint", "Status", "Requests", "Created", ""].map((c) => h("th", { scope: "col" }, c)))),
    h(
      "tbody",
      null,
      batches.map((b) => {
        const actions = h("div", { class: "row" });
        const counts = b.request_counts;
        if (ACTIVE.has(b.status) && b.status !== "cancelling") {
          const cancel = h("button", { type: "button", class: "danger", "aria-label": `Cancel batch ${b.id}` }, "Cancel");
          cancel.addEventListener("click", async () => {
            try {
              await client().batches.cancel(b.id);
              await refresh();
            } catch (e) {
              toast(errorText(e));
            }
          });
          actions.append(cancel);
        }
        for (const [fileId, label] of [[b.output_file_id, "Results"], [b.error_file_id, "Errors"]] as const) {
          if (!fileId) continue;
          const get = h("button", { type: "button", class: "secondary", "aria-label": `Download the ${label.toLowerCase()} of batch ${b.id}` }, label);
          get.addEventListener("click", async () => {
            try {
              const content = await client().files.content(fileId);
              download(await content.blob(), `${b.id}-${label.toLowerCase()}.jsonl`);
            } catch (e) {
              toast(errorText(e));
            }
          });
          actions.append(get);
        }
        const done = counts.completed + counts.failed;
        return h(
          "tr",
          { "data-batch-id": b.id },
          h("td", null, h("code", null, b.id)),
          h("td", null, b.endpoint),
          h("td", null, h("span", { class: `badge ${b.status}` }, b.status)),
          h("td", null, h("progress", { max: Math.max(1, counts.total), value: done, "aria-label": `Progress of batch ${b.id}` }), ` ${done}/${counts.total} (${counts.failed} failed)`),
          h("td", null, formatDate(b.created_at)),
          h("td", null, actions),
        );
      }),
    ),
  );
}

// Dashboard: balance and reserved credits, the key's limits, usage per day and model (an SVG bar chart), API keys.
import { clear, field, formatDate, h, select, svg, toast } from "../dom";
import { apiKey, client, errorText, signOut } from "../state";
import type { Account, ApiKey, Usage, UsageDay } from "../types";

const COLOURS = ["#0b5cad", "#b35900", "#1a7f37", "#8250df", "#a4161a", "#006d75", "#6e5400", "#bf3989"];
type Metric = "credits" | "requests" | "characters" | "audio_seconds";
const METRICS: [Metric, string][] = [
  ["credits", "Credits"],
  ["requests", "Requests"],
  ["characters", "Characters synthesized"],
  ["audio_seconds", "Audio seconds transcribed"],
];

export async function dashboardPage(main: HTMLElement, signal: AbortSignal): Promise<void> {
  const accountBox = h("section", { class: "card", "aria-labelledby": "acct-title" }, h("h2", { id: "acct-title" }, "Account"), h("p", null, "Loading…"));
  const usageBox = h("section", { class: "card", "aria-labelledby": "usage-title" }, h("h2", { id: "usage-title" }, "Usage"), h("p", null, "Loading…"));
  const keysBox = h("section", { class: "card", "aria-labelledby": "keys-title" }, h("h2", { id: "keys-title" }, "API keys"));
  main.append(h("h1", null, "Dashboard"), accountBox, usageBox, keysBox);
  await Promise.all([renderAccount(accountBox, signal), renderUsage(usageBox, signal), renderKeys(keysBox, signal)]);
}

async function renderAccount(box: HTMLElement, signal: AbortSignal): Promise<void> {
  try {
    const account = (await client().account.retrieve({ signal })) as unknown as Account;
    const stat = (label: string, value: string, id: string) =>
      h("div", { class: "stat" }, h("div", { class: "value", id }, value), h("div", { class: "label" }, label));
    const unlimited = (n: number) => (n === 0 ? "unlimited" : String(n));
    clear(
      box,
      h("h2", { id: "acct-title" }, `Account ${account.name}`),
      h(
        "div",
        { class: "stats" },
        stat("Credits available", account.balance.toLocaleString(undefined, { maximumFractionDigits: 6 }), "balance"),
        stat("Credits reserved by running jobs", account.reserved.toLocaleString(undefined, { maximumFractionDigits: 6 }), "reserved"),
        stat("Requests per minute (this key)", unlimited(account.limits.requests_per_minute), "limit-rpm"),
        stat("Concurrent jobs (this key)", `${account.active_jobs} of ${unlimited(account.limits.max_concurrent_jobs)}`, "limit-jobs"),
      ),
      h("p", { class: "hint" }, `Signed in with key “${account.key.name || "unnamed"}” (s2s-${account.key.prefix}-…).`),
    );
  } catch (e) {
    if (!signal.aborted) clear(box, h("h2", { id: "acct-title" }, "Account"), h("p", { class: "error" }, errorText(e)));
  }
}

async function renderUsage(box: HTMLElement, signal: AbortSignal): Promise<void> {
  let usage: Usage;
  try {
    usage = (await client().usage.list({}, { signal })) as unknown as Usage;
  } catch (e) {
    if (!signal.aborted) clear(box, h("h2", { id: "usage-title" }, "Usage"), h("p", { class: "error" }, errorText(e)));
    return;
  }
  const metric = select(METRICS, "credits");
  const chart = h("div", { class: "chart" });
  const draw = () => clear(chart, usageChart(usage, metric.value as Metric));
  metric.addEventListener("change", draw);
  draw();
  const t = usage.totals;
  clear(
    box,
    h("h2", { id: "usage-title" }, `Usage ${usage.start} to ${usage.end} (UTC days)`),
    h("p", null, `${t.requests} requests (${t.succeeded} succeeded), ${t.characters} characters, ${t.audio_seconds} audio seconds, ${t.credits} credits.`),
    h("div", { class: "narrow" }, field("Show", metric)),
    chart,
    usageTable(usage.data),
  );
}

function usageChart(usage: Usage, metric: Metric): Node {
  const days: string[] = [];
  for (let d = new Date(`${usage.start}T00:00:00Z`); d <= new Date(`${usage.end}T00:00:00Z`); d.setUTCDate(d.getUTCDate() + 1)) {
    days.push(d.toISOString().slice(0, 10));
  }
  const models = [...new Set(usage.data.map((r) => r.model))].sort();
  const colour = (m: string) => COLOURS[models.indexOf(m) % COLOURS.length];
  const perDay = new Map<string, UsageDay[]>();
  for (const row of usage.data) perDay.set(row.date, [...(perDay.get(row.date) ?? []), row]);
  const total = (rows: UsageDay[]) => rows.reduce((sum, r) => sum + r[metric], 0);
  const max = Math.max(0, ...days.map((d) => total(perDay.get(d) ?? [])));
  const W = 720, H = 240, left = 48, bottom = 28, top = 10;
  const barW = (W - left - 8) / Math.max(1, days.length);
  const scale = (v: number) => (max > 0 ? (v / max) * (H - bottom - top) : 0);
  const label = METRICS.find(([m]) => m === metric)![1];
  const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": `${label} per day and model; the table below has the numbers` });
  root.append(svg("line", { x1: left, y1: H - bottom, x2: W - 4, y2: H - bottom, stroke: "#6e7781" }));
  for (const frac of max > 0 ? [0.5, 1] : []) {
    const y = H - bottom - frac * (H - bottom - top);
    root.append(svg("line", { x1: left, y1: y, x2: W - 4, y2: y, stroke: "#d0d7de", "stroke-dasharray": "3 3" }));
    root.append(svg("text", { x: left - 6, y: y + 4, "text-anchor": "end", "font-size": 11, fill: "#4a5360" }, trim(max * frac)));
  }
  days.forEach((day, i) => {
    let y = H - bottom;
    for (const row of (perDay.get(day) ?? []).sort((a, b) => a.model.localeCompare(b.model))) {
      const height = scale(row[metric]);
      if (height <= 0) continue;
      y -= height;
      const rect = svg("rect", { x: left + i * barW + 1, y, width: Math.max(1, barW - 2), height, fill: colour(row.model), "data-model": row.model, "data-day": day });
      rect.append(svg("title", {}, `${day} ${row.model}: ${trim(row[metric])} ${label.toLowerCase()}`));
      root.append(rect);
    }
    if (i % Math.ceil(days.length / 8) === 0) {
      root.append(svg("text", { x: left + i * barW + barW / 2, y: H - 8, "text-anchor": "middle", "font-size": 11, fill: "#4a5360" }, day.slice(5)));
    }
  });
  const legend = h("ul", { class: "legend", "aria-label": "Models" }, models.map((m) => h("li", null, h("i", { style: `background:${colour(m)}` }), m)));
  return h("div", null, root, models.length ? legend : h("p", { class: "hint" }, "No usage in this period yet: speak or transcribe something."));
}

function trim(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(v < 1 ? 4 : 2);
}

function usageTable(rows: UsageDay[]): Node {
  if (!rows.length) return h("span");
  return h(
    "details",
    null,
    h("summary", null, "Usage as a table"),
    h(
      "table",
      null,
      h("thead", null, h("tr", null, ["Day", "Model", "Kind", "Requests", "Succeeded", "Characters", "Audio s", "Credits"].map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", null, rows.map((r) => h("tr", null, [r.date, r.model, r.kind, r.requests, r.succeeded, r.characters, r.audio_seconds, r.credits].map((c) => h("td", null, String(c)))))),
    ),
  );
}

async function renderKeys(box: HTMLElement, signal: AbortSignal): Promise<void> {
  const list = h("div", { id: "keys-list" }, h("p", null, "Loading…"));
  const created = h("div", { id: "key-created", "aria-live": "polite" });
  const name = h("input", { type: "text", name: "key-name", maxlength: 200, placeholder: "e.g. staging server" });
  const rpm = h("input", { type: "number", name: "key-rpm", min: 0, step: 1, placeholder: "account default" });
  const jobs = h("input", { type: "number", name: "key-jobs", min: 0, step: 1, placeholder: "account default" });
  const error = h("div", { role: "alert" });
  const submit = h("button", { type: "submit" }, "Create key");
  const showRevoked = h("input", { type: "checkbox", name: "show-revoked", checked: true });
  const form = h(
    "form",
    { "aria-label": "Create an API key" },
    h("div", { class: "grid" }, field("Key name", name), field("Requests per minute", rpm, "0 is unlimited"), field("Concurrent jobs", jobs, "0 is unlimited")),
    error,
    submit,
  );
  const refresh = async () => {
    try {
      const page = (await client().account.keys.list({ include_revoked: showRevoked.checked }, { signal })) as unknown as { data: ApiKey[] };
      clear(list, keysTable(page.data, refresh));
    } catch (e) {
      if (!signal.aborted) clear(list, h("p", { class: "error" }, errorText(e)));
    }
  };
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.replaceChildren();
    submit.disabled = true;
    try {
      const body: Record<string, unknown> = { name: name.value.trim() };
      if (rpm.value !== "") body.requests_per_minute = Number(rpm.value);
      if (jobs.value !== "") body.max_concurrent_jobs = Number(jobs.value);
      const key = (await client().account.keys.create(body as { name: string })) as unknown as ApiKey & { key: string };
      clear(created, secretBox(key));
      form.reset();
      await refresh();
    } catch (e) {
      error.append(h("p", { class: "error" }, errorText(e)));
    } finally {
      submit.disabled = false;
    }
  });
  showRevoked.addEventListener("change", () => void refresh());
  box.append(form, created, field("Show revoked keys", showRevoked, undefined, true), list);
  await refresh();
}

function secretBox(key: ApiKey & { key: string }): Node {
  const copy = h("button", { type: "button", class: "secondary", id: "copy-key" }, "Copy");
  copy.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(key.key);
      toast("Key copied to the clipboard.");
    } catch {
      const range = document.createRange();
      range.selectNodeContents(document.getElementById("new-key-secret")!);
      getSelection()?.removeAllRanges();
      getSelection()?.addRange(range);
      toast("Select-and-copy it: the clipboard is not available here.");
    }
  });
  return h(
    "div",
    { class: "warning" },
    h("p", null, h("strong", null, `Key “${key.name || key.id}” created.`), " Copy it now: it is shown only once."),
    h("div", { class: "row" }, h("code", { class: "secret", id: "new-key-secret" }, key.key), copy),
  );
}

function keysTable(keys: ApiKey[], refresh: () => Promise<void>): Node {
  if (!keys.length) return h("p", null, "No keys.");
  const mine = apiKey() ?? "";
  return h(
    "table",
    { id: "keys-table" },
    h("thead", null, h("tr", null, ["Name", "Key", "Created", "Limits", "Status", ""].map((c) => h("th", { scope: "col" }, c)))),
    h(
      "tbody",
      null,
      keys.map((k) => {
        const current = mine.startsWith(`s2s-${k.prefix}-`);
        const revoke = h("button", { type: "button", class: "danger", "aria-label": `Revoke key ${k.name || k.prefix}` }, "Revoke");
        revoke.addEventListener("click", async () => {
          const warn = current ? " This is the key you are signed in with: the playground will sign you out." : "";
          if (!confirm(`Revoke key “${k.name || k.prefix}”? Requests with it are refused at once.${warn}`)) return;
          revoke.disabled = true;
          try {
            await client().account.keys.revoke(k.id);
            toast(`Key ${k.name || k.prefix} revoked.`);
            if (current) {
              signOut();
              location.assign("/playground/");
            }
            else await refresh();
          } catch (e) {
            toast(errorText(e));
            revoke.disabled = false;
          }
        });
        const limits = `${k.requests_per_minute ?? "default"} rpm, ${k.max_concurrent_jobs ?? "default"} jobs`;
        return h(
          "tr",
          { "data-key-id": k.id, "data-key-name": k.name },
          h("td", null, k.name || "—", current ? h("span", { class: "hint" }, " (this session)") : null),
          h("td", null, h("code", null, `s2s-${k.prefix}-…`)),
          h("td", null, formatDate(k.created_at)),
          h("td", null, limits),
          h("td", null, k.revoked_at ? h("span", { class: "badge revoked" }, `revoked ${formatDate(k.revoked_at)}`) : h("span", { class: "badge ready" }, "active")),
          h("td", null, k.revoked_at ? null : revoke),
        );
      }),
    ),
  );
}

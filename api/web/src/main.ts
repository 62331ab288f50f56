// The playground's shell: navigation, history routing under /playground, and the sign-in gate.
import "./style.css";
import { clear, h } from "./dom";
import { convertPage } from "./pages/convert";
import { dashboardPage } from "./pages/dashboard";
import { jobsPage } from "./pages/jobs";
import { signInPage } from "./pages/signin";
import { speakPage } from "./pages/speak";
import { transcribePage } from "./pages/transcribe";
import { voicesPage } from "./pages/voices";
import { apiKey, signOut } from "./state";

export const BASE = "/playground";

type Page = (main: HTMLElement, signal: AbortSignal) => void | Promise<void>;

const PAGES: { path: string; title: string; render: Page }[] = [
  { path: "", title: "Dashboard", render: dashboardPage },
  { path: "speak", title: "Speak", render: speakPage },
  { path: "transcribe", title: "Transcribe", render: transcribePage },
  { path: "convert", title: "Convert", render: convertPage },
  { path: "voices", title: "Voices", render: voicesPage },
  { path: "jobs", title: "Jobs", render: jobsPage },
];

let current: AbortController | null = null;

function route(): string {
  const path = location.pathname.startsWith(BASE) ? location.pathname.slice(BASE.length) : "";
  return path.replace(/^\/+|\/+$/g, "");
}

export function navigate(path: string): void {
  history.pushState(null, "", `${BASE}/${path}`);
  void render();
}

function renderNav(active: string): void {
  const nav = document.getElementById("nav")!;
  const who = document.getElementById("who")!;
  if (!apiKey()) {
    clear(nav);
    clear(who);
    return;
  }
  const items = PAGES.map((p) =>
    h("li", null, h("a", { href: `${BASE}/${p.path}`, "data-link": true, "aria-current": p.path === active ? "page" : false }, p.title)),
  );
  clear(nav, h("ul", null, items));
  clear(
    who,
    h("span", null, "Signed in with an API key"),
    h("button", { type: "button", class: "secondary", id: "sign-out", onclick: () => { signOut(); navigate(""); } }, "Sign out"),
  );
}

export async function render(): Promise<void> {
  current?.abort();
  current = new AbortController();
  const main = document.getElementById("main")!;
  const path = route();
  rendered = location.pathname;
  const page = PAGES.find((p) => p.path === path);
  renderNav(page ? page.path : "");
  main.replaceChildren();
  if (!apiKey()) {
    document.title = "Sign in — Speech to Speech AI";
    signInPage(main, () => void render());
    return;
  }
  if (!page) {
    document.title = "Not found — Speech to Speech AI";
    main.append(h("h1", null, "Page not found"), h("p", null, h("a", { href: `${BASE}/`, "data-link": true }, "Go to the dashboard")));
    return;
  }
  document.title = `${page.title} — Speech to Speech AI`;
  await page.render(main, current.signal);
}

document.addEventListener("click", (event) => {
  const link = (event.target as Element | null)?.closest?.("a[data-link]") as HTMLAnchorElement | null;
  if (!link || event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
  event.preventDefault();
  history.pushState(null, "", link.pathname);
  void render().then(() => document.getElementById("main")?.focus());
});
let rendered = "";
window.addEventListener("popstate", () => {
  if (location.pathname !== rendered) void render(); // the skip link's #main changes only the hash
});
void render();

// Sign in with an API key: checked with GET /v1/account before it is kept (in sessionStorage only).
import { field, h } from "../dom";
import { client, errorText, signIn } from "../state";

export function signInPage(main: HTMLElement, done: () => void): void {
  const input = h("input", { type: "password", name: "api-key", autocomplete: "off", spellcheck: "false", required: true });
  const error = h("div", { role: "alert" });
  const button = h("button", { type: "submit" }, "Sign in");
  const form = h(
    "form",
    { class: "card", "aria-labelledby": "signin-title" },
    field("API key", input, "Starts with s2s-. `make run` prints one; it stays in this tab only (sessionStorage) and sign-out forgets it."),
    error,
    button,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const key = input.value.trim();
    error.replaceChildren();
    if (!key) {
      error.append(h("p", { class: "error" }, "Paste an API key to sign in."));
      return;
    }
    button.disabled = true;
    try {
      await client(key).account.retrieve();
      signIn(key);
      done();
    } catch (e) {
      error.append(h("p", { class: "error" }, `That key was not accepted: ${errorText(e, false)}`));
    } finally {
      button.disabled = false;
    }
  });
  main.append(
    h("h1", { id: "signin-title" }, "Sign in"),
    h("p", null, "The playground speaks text, transcribes audio, clones voices and shows your account, all through the public API with your key."),
    form,
  );
  input.focus();
}

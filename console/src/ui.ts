// Shared feedback: loading placeholders, error boxes, toasts, paging.

import { describe, post } from "./api";
import { h, replace } from "./dom";

export function loading(text = "加载中…"): HTMLElement {
  return h("div", { class: "loading", role: "status" }, h("span", { class: "spinner", "aria-hidden": "true" }), text);
}

/** A button that POSTs `path` when clicked: disabled while it runs, a toast with the outcome, `done`
 * after a success; after a refusal the API's message, and the button again. */
export function postButton(label: string, attrs: Record<string, string>, path: string, ok: string, done: () => void): HTMLButtonElement {
  const button = h("button", { type: "button", ...attrs }, label) as HTMLButtonElement;
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      await post(path);
      toast(ok);
      done();
    } catch (err) {
      toast(describe(err), "error");
      button.disabled = false;
    }
  });
  return button;
}

export function errorBox(err: unknown, retry?: () => void): HTMLElement {
  return h(
    "div",
    { class: "error", role: "alert" },
    h("p", null, describe(err)),
    retry ? h("button", { type: "button", class: "secondary", onclick: () => retry() }, "重试") : null,
  );
}

export function empty(text: string): HTMLElement {
  return h("p", { class: "empty" }, text);
}

let toastTimer: number | undefined;
export function toast(text: string, kind: "ok" | "error" = "ok"): void {
  const el = document.getElementById("toast");
  if (!el) return;
  el.className = `toast ${kind}`;
  replace(el, text);
  el.hidden = false;
  window.clearTimeout(toastTimer);
  toastTimer = window.setTimeout(() => {
    el.hidden = true;
  }, 4000);
}

/** Runs `load` into `target`, with a loading placeholder and a retry on failure. */
// The latest load asked of each target: an answer that arrives after a newer one was asked for (a
// filter changed while the first page was still coming) is dropped, never shown over the newer one.
const latest = new WeakMap<HTMLElement, number>();
let loads = 0;

export async function into(target: HTMLElement, load: () => Promise<HTMLElement | HTMLElement[]>): Promise<void> {
  const mine = ++loads;
  latest.set(target, mine);
  replace(target, loading());
  try {
    const out = await load();
    if (latest.get(target) === mine) replace(target, out);
  } catch (err) {
    if (latest.get(target) === mine) replace(target, errorBox(err, () => void into(target, load)));
  }
}

/** At most `max` calls of the returned function run at once; the rest wait their turn. */
export function limiter(max: number): <T>(fn: () => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async <T>(fn: () => Promise<T>): Promise<T> => {
    if (active >= max) await new Promise<void>((resolve) => waiting.push(resolve));
    active++;
    try {
      return await fn();
    } finally {
      active--;
      waiting.shift()?.();
    }
  };
}

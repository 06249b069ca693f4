// The API's errors where the citizen looks: next to the field the API names, else above the button.

import { ApiError, describe } from "./api";
import { setError } from "./dom";

function rowFor(scope: Element, name: string | undefined): Element | null {
  if (!name) return null;
  const rows = Array.from(scope.querySelectorAll<HTMLElement>("[data-field]")).filter((r) => !r.hidden && !r.closest("[hidden]"));
  const last = name.split(".").pop() ?? name;
  return (
    rows.find((r) => r.dataset.field === name) ??
    rows.find((r) => (r.dataset.field ?? "").split(".").pop() === last) ??
    null
  );
}

function focusIn(row: Element): void {
  const control = row.querySelector<HTMLElement>("input, textarea, select");
  control?.focus();
  row.scrollIntoView({ block: "center" });
}

/** Shows ``message`` next to the row for ``name`` (the API's field), or in the form's error box. */
export function showAt(scope: Element, name: string | undefined, message: string): void {
  const row = rowFor(scope, name);
  if (row) {
    setError(row, message);
    focusIn(row);
    return;
  }
  const box = scope.querySelector<HTMLElement>(".form-error");
  if (box) {
    box.textContent = message;
    box.hidden = false;
    box.scrollIntoView({ block: "center" });
  }
}

/** An API failure: its message next to the field it names (``fallback`` when it names none we show). */
export function showError(scope: Element, err: unknown, fallback?: string): void {
  const name = err instanceof ApiError ? err.field : undefined;
  const target = rowFor(scope, name) ? name : fallback;
  showAt(scope, target, describe(err));
}

// DOM building without HTML strings. Every text goes in as a text node (never innerHTML),
// so a petition whose content is "<script>…" shows as those characters.

export type Child = Node | string | number | null | undefined | false | Child[];

type Handler = (ev: Event) => void;

export interface Props {
  [name: string]: string | number | boolean | Handler | null | undefined;
}

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props?: Props | null,
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (props) {
    for (const [name, value] of Object.entries(props)) {
      if (value === null || value === undefined || value === false) continue;
      if (name.startsWith("on") && typeof value === "function") {
        el.addEventListener(name.slice(2), value as Handler);
      } else if (name === "class") {
        el.className = String(value);
      } else if (name === "value") {
        (el as HTMLInputElement).value = String(value);
      } else if (name === "checked" || name === "selected" || name === "disabled") {
        (el as unknown as Record<string, boolean>)[name] = Boolean(value);
        el.setAttribute(name, "");
      } else {
        el.setAttribute(name, value === true ? "" : String(value));
      }
    }
  }
  append(el, children);
  return el;
}

export function append(el: Node, children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else if (child instanceof Node) el.appendChild(child);
    else el.appendChild(document.createTextNode(String(child)));
  }
}

export function replace(el: Element, ...children: Child[]): void {
  while (el.firstChild) el.removeChild(el.firstChild);
  append(el, children);
}

let ids = 0;
/** A fresh id for pairing a label, a hint or an error with its control. */
export function uid(prefix: string): string {
  ids += 1;
  return `${prefix}-${ids}`;
}

/**
 * A labelled form row: a <label for> above the control, an optional hint, and an error slot
 * (role="alert") the API's message for this field goes into. ``name`` is the API's field name
 * (``content``, ``location.address``…), kept on the row as data-field.
 */
export function field(name: string, label: string, control: HTMLElement, hint?: Child): HTMLDivElement {
  const id = control.id || uid("f");
  control.id = id;
  const error = h("p", { class: "error", id: `${id}-error`, role: "alert", hidden: true });
  const described = [`${id}-error`];
  let hintEl: HTMLElement | null = null;
  if (hint !== undefined && hint !== null && hint !== false) {
    hintEl = h("p", { class: "hint", id: `${id}-hint` }, hint);
    described.unshift(`${id}-hint`);
  }
  control.setAttribute("aria-describedby", described.join(" "));
  return h("div", { class: "field", "data-field": name }, h("label", { for: id }, label), control, hintEl, error);
}

/** Shows (or with null, hides) a row's error message and marks its control invalid. */
export function setError(row: Element, message: string | null): void {
  const error = row.querySelector<HTMLElement>(".error");
  const control = row.querySelector<HTMLElement>("input, textarea, select, fieldset");
  if (error) {
    error.textContent = message ?? "";
    error.hidden = !message;
  }
  if (control) {
    if (message) control.setAttribute("aria-invalid", "true");
    else control.removeAttribute("aria-invalid");
  }
}

export function clearErrors(scope: Element): void {
  scope.querySelectorAll(".field, .fieldset").forEach((row) => setError(row, null));
  scope.querySelectorAll<HTMLElement>(".form-error").forEach((box) => {
    box.textContent = "";
    box.hidden = true;
  });
}

/** A form-level message box (for errors that name no field). */
export function formError(): HTMLParagraphElement {
  return h("p", { class: "form-error", role: "alert", hidden: true });
}

export function badge(text: string, kind = ""): HTMLSpanElement {
  return h("span", { class: `badge ${kind}`.trim() }, text);
}

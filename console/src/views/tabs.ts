// Status tabs over a petition feed.

import { h, replace } from "../dom";

export function tabs(items: [string, string][], current: string, onPick: (value: string) => void): HTMLElement {
  const bar = h("div", { class: "tabs", role: "tablist" });
  const draw = (value: string) =>
    replace(
      bar,
      items.map(([v, label]) =>
        h(
          "button",
          {
            type: "button",
            role: "tab",
            class: v === value ? "tab active" : "tab",
            "aria-selected": v === value ? "true" : "false",
            "data-tab": v,
            onclick: () => {
              draw(v);
              onPick(v);
            },
          },
          label,
        ),
      ),
    );
  draw(current);
  return bar;
}

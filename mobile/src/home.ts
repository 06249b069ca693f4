// The front page: the greeting, then the county entrances from the directory.

import { describe } from "./api";
import { districts, entrances } from "./directory";
import { h, replace } from "./dom";
import { GREETING } from "./labels";

export async function homeView(root: HTMLElement, isCurrent: () => boolean): Promise<void> {
  const greeting = h("p", { id: "greeting", class: "greeting" }, GREETING);
  const heading = h("h1", { tabindex: -1, class: "visually-hidden" }, "阜政通办事平台");
  const list = h("div", { class: "entrances", "aria-busy": "true" }, h("p", { class: "note" }, "正在加载区县…"));
  replace(
    root,
    heading,
    h("div", { class: "assistant" }, greeting),
    h("h2", { id: "entrances-title" }, "请选择问题所在的区县"),
    list,
    h("p", { class: "mine-link" }, h("a", { class: "button secondary", href: "#/mine" }, "查看我的诉求")),
    h("p", { class: "note" }, "紧急情况请拨打 110、119、120。"),
  );
  try {
    const all = entrances(await districts());
    if (!isCurrent()) return;
    replace(
      list,
      h(
        "ul",
        { "aria-labelledby": "entrances-title" },
        all.map((d) =>
          h("li", null, h("a", { class: "entrance", href: `#/d/${d.code}`, "data-district": d.code }, d.name)),
        ),
      ),
    );
  } catch (err) {
    if (!isCurrent()) return;
    replace(
      list,
      h("p", { class: "form-error", role: "alert" }, describe(err)),
      h("button", { type: "button", class: "secondary", onclick: () => void homeView(root, isCurrent) }, "重试"),
    );
  }
  list.removeAttribute("aria-busy");
}

// 典型案例: closed petitions the supervisors chose to publish, anonymised by the server
// (no names, phones or house numbers): district, category, what was done, days to close.

import { describe, get } from "./api";
import { h, replace } from "./dom";

interface PublicCase {
  title: string;
  summary: string;
  district_name: string;
  category_name: string | null;
  what_was_done: string;
  working_days_to_close: number;
  closed_on: string;
}

export async function casesView(root: HTMLElement, isCurrent: () => boolean): Promise<void> {
  const list = h("div", { class: "cases", "aria-busy": "true" }, h("p", { class: "note" }, "正在加载典型案例…"));
  replace(root, h("h1", { tabindex: -1 }, "典型案例"), h("p", { class: "note" }, "群众身边的事，件件有回音。"), list);
  try {
    const { items } = await get<{ items: PublicCase[] }>("/v1/public/cases");
    if (!isCurrent()) return;
    replace(
      list,
      items.length
        ? h(
            "ul",
            { class: "case-list" },
            items.map((c) =>
              h(
                "li",
                { class: "case", "data-case": c.title },
                h("h2", null, c.title),
                h("p", { class: "meta" }, [c.district_name, c.category_name].filter(Boolean).join(" · ")),
                h("p", null, c.summary),
                h("p", null, h("b", null, "办理结果："), c.what_was_done || "已办结"),
                h("p", { class: "note" }, `${c.closed_on} 办结，用时 ${c.working_days_to_close} 个工作日`),
              ),
            ),
          )
        : h("p", { class: "note" }, "暂无典型案例。"),
    );
  } catch (err) {
    if (!isCurrent()) return;
    replace(list, h("p", { class: "form-error", role: "alert" }, describe(err)));
  }
  list.removeAttribute("aria-busy");
}

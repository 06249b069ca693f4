// 我首问的诉求: what the desk's unit received (GET /v1/petitions answers exactly that for a desk),
// newest first, with status and the running stage's due time. Each opens the detail view, where a
// petition still 待分拨 can be answered on the spot.

import { get, type Query } from "../api";
import { append, h, option, replace } from "../dom";
import { categoryName, departmentName, districtName } from "../directory";
import { countdown, when } from "../format";
import { CHANNEL, label, STAGE, STATUS } from "../labels";
import { statusBadge, type Page, type Petition } from "../petition";
import { empty, errorBox, loading } from "../ui";
import type { View } from "../main";
import { refreshButton, toolbar } from "./common";

function snippet(text: string, n = 40): string {
  const chars = Array.from(text);
  return chars.length > n ? chars.slice(0, n).join("") + "…" : text;
}

function dueCell(p: Petition): HTMLElement {
  const stage = p.stage;
  if (!stage) return h("td", { class: "due muted" }, p.status === "closed" ? "已结案" : "—");
  const parts = [h("span", { class: "sla-stage" }, `${label(STAGE, stage.name)}阶段`), stage.due_at ? ` 截止 ${when(stage.due_at)}` : ""];
  if (stage.due_at && stage.running) {
    const c = countdown(stage.due_at);
    return h("td", { class: "due" }, parts, h("br"), h("span", { class: `countdown${c.overdue ? " overdue" : ""}`, "data-due": stage.due_at }, c.text));
  }
  return h("td", { class: "due" }, parts, h("br"), h("span", { class: "countdown paused" }, p.status === "resolved" ? "待审核，计时暂停" : "计时暂停"));
}

function petitionRow(p: Petition): HTMLElement {
  return h(
    "tr",
    { "data-petition": p.id, "data-status": p.status },
    h("td", null, h("a", { class: "pid", href: `#/p/${p.id}` }, p.id)),
    h("td", { class: "nowrap" }, when(p.created_at)),
    h(
      "td",
      { class: "what" },
      h("a", { href: `#/p/${p.id}` }, p.title || categoryName(p.category)),
      h("small", { class: "muted" }, snippet(p.content)),
    ),
    h("td", null, districtName(p.district)),
    h("td", null, label(CHANNEL, p.channel)),
    h("td", null, statusBadge(p), p.answered_by ? h("small", { class: "muted on-spot-mark" }, "当场答复") : null),
    h("td", null, p.department ? departmentName(p.department) : "—"),
    dueCell(p),
  );
}

export const mineView: View = async (el, s) => {
  const f = { status: "", overdue: false };
  const body = h("div");

  const render = () => {
    const tbody = h("tbody");
    const foot = h("div", { class: "feed-foot" });
    const table = h(
      "table",
      { class: "mine", "data-mine": "1" },
      h("thead", null, h("tr", null, ["编号", "受理时间", "诉求", "区县", "渠道", "状态", "承办部门", "当前环节 / 截止"].map((t) => h("th", null, t)))),
      tbody,
    );
    const box = h("div", { class: "feed" }, h("div", { class: "table-wrap" }, table), foot);
    replace(body, box);
    let seen = 0;
    const load = async (cursor: string | null) => {
      replace(foot, loading());
      const query: Query = { limit: 20, status: f.status, overdue: f.overdue, cursor };
      try {
        const page = await get<Page>("/v1/petitions", query);
        seen += page.items.length;
        append(tbody, page.items.map(petitionRow));
        table.setAttribute("data-count", String(seen));
        box.setAttribute("data-loaded", "1");
        replace(
          foot,
          page.next_cursor
            ? h("button", { type: "button", class: "secondary", "data-more": "1", onclick: () => void load(page.next_cursor) }, "加载更多")
            : seen
              ? h("p", { class: "muted" }, `共 ${seen} 件`)
              : empty(f.status || f.overdue ? "没有符合条件的诉求" : "本单位尚未首问受理诉求"),
        );
      } catch (err) {
        replace(foot, errorBox(err, () => void load(cursor)));
      }
    };
    void load(null);
  };

  const status = h("select", { name: "status", "aria-label": "状态" }, option("", "全部状态"), Object.entries(STATUS).map(([v, l]) => option(v, l)));
  status.addEventListener("change", () => {
    f.status = status.value;
    render();
  });
  const overdue = h("input", { type: "checkbox", name: "overdue" });
  overdue.addEventListener("change", () => {
    f.overdue = overdue.checked;
    render();
  });
  replace(
    el,
    toolbar(
      `我首问的诉求 · ${departmentName(s.department)}`,
      status,
      h("label", { class: "check" }, overdue, "仅看超期"),
      h("a", { class: "button primary", href: "#/register" }, "登记诉求"),
      refreshButton(render),
    ),
    h("p", { class: "muted" }, "本单位首问受理的诉求，首问负责到底：每次状态变化都会通知本单位。待分拨的诉求可在详情中当场答复。"),
    body,
  );
  render();
};

// 首席办事员 (the chief's board: key cases, escalations to me, my instructions and what came of them),
// 年度考核 (the league table of a district's units, with the reasons behind each score), and the
// accountability form (提醒/约谈/移送纪委) the supervision board puts beside each violation.

import { get, post, type Session } from "../api";
import { badge, h, option, replace, section, type Child } from "../dom";
import { CITY, departmentName, districtName, districtsIn } from "../directory";
import { when } from "../format";
import { ESCALATION, label } from "../labels";
import { refresh } from "../refresh";
import { empty, errorBox, loading, toast } from "../ui";
import type { View } from "../main";

interface BoardItem {
  id: string;
  status: string | null;
  status_label?: string | null;
  district?: string | null;
  department?: string | null;
  title?: string | null;
  escalation_level?: string | null;
  due_at?: string | null;
  reply?: string | null;
  at?: string | null;
  note?: string | null;
  level?: string | null;
  reason?: string | null;
  to?: string | null;
  done?: boolean | null;
}

interface Board {
  chief: string;
  key_cases: BoardItem[];
  escalations: BoardItem[];
  instructions: BoardItem[];
}

const unitName = (code: string | null | undefined, district?: string | null) =>
  code ? (code.endsWith(".dispatch") ? `${districtName(code.split(".")[0])}分拨中心` : departmentName(code)) : district ? `${districtName(district)}分拨中心` : "—";

function table(kind: string, head: string[], items: BoardItem[], cells: (i: BoardItem) => Child[], emptyText: string): HTMLElement {
  if (!items.length) return empty(emptyText);
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      { "data-chief": kind },
      h("thead", null, h("tr", null, head.map((t) => h("th", null, t)))),
      h("tbody", null, items.map((i) => h("tr", { "data-petition": i.id }, cells(i).map((c) => h("td", null, c))))),
    ),
  );
}

const link = (i: BoardItem) => h("a", { href: `#/p/${i.id}` }, i.id);

export const chiefView: View = async (el, s) => {
  replace(el, loading("正在读取首席办事员工作台…"));
  let board: Board;
  try {
    board = await get<Board>("/v1/board");
  } catch (err) {
    replace(el, errorBox(err, () => void chiefView(el, s)));
    return;
  }
  replace(
    el,
    h("h1", null, s.district === CITY ? "市首席办事员工作台" : `${districtName(s.district)}首席办事员工作台`),
    h("p", { class: "note" }, "疑难、重点诉求留在此处直至办结；呈报本级的升级件；本人批示及其办理结果。"),
    section(
      `疑难/重点诉求（${board.key_cases.length}）`,
      table(
        "key",
        ["编号", "诉求", "承办单位", "状态", "截止", "标注", "说明"],
        board.key_cases,
        (i) => [link(i), i.title || "—", unitName(i.department, i.district), i.status_label ?? "—", when(i.due_at ?? null), when(i.at ?? null), i.note || "—"],
        "暂无标注的疑难/重点诉求（在诉求详情中“标注重点”）",
      ),
    ),
    section(
      `呈报我处的升级件（${board.escalations.length}）`,
      table(
        "escalations",
        ["编号", "诉求", "承办单位", "状态", "升级", "原因", "时间"],
        board.escalations,
        (i) => [link(i), i.title || "—", unitName(i.department, i.district), i.status_label ?? "—", badge(label(ESCALATION, i.level ?? "district"), "escalated"), i.reason || "—", when(i.at ?? null)],
        "暂无呈报本级的升级件",
      ),
    ),
    section(
      `我的批示（${board.instructions.length}）`,
      table(
        "instructions",
        ["编号", "批示", "交办单位", "时间", "现状", "办理结果"],
        board.instructions,
        (i) => [link(i), i.note || "—", unitName(i.to, i.district), when(i.at ?? null), i.done ? badge("已办结", "ok") : i.status_label ?? "—", i.reply || "—"],
        "暂无批示",
      ),
    ),
  );
  el.setAttribute("data-loaded", "1");
};

// --- 年度考核 ---------------------------------------------------------------------------------------

interface Rate {
  value: number | null;
  numerator: number;
  denominator: number;
}

interface Reason {
  term: string;
  label: string;
  points?: number;
  value?: number;
  numerator?: number;
  denominator?: number;
  weight?: number;
  count?: number;
}

interface UnitAssessment {
  unit: string;
  name: string;
  score: number | null;
  rank?: number | null;
  figures: Record<string, Rate | number | null>;
  violations: Record<string, number>;
  urges: Record<string, number>;
  actions: Record<string, number>;
  reasons: Reason[];
}

interface Assessment {
  year: number;
  district: string;
  formula: string;
  units: UnitAssessment[];
}

const pct = (r: Rate | number | null | undefined) =>
  r && typeof r === "object" ? (r.value === null ? "—" : `${(r.value * 100).toFixed(1)}%（${r.numerator}/${r.denominator}）`) : "—";
const total = (m: Record<string, number>) => Object.values(m).reduce((a, b) => a + b, 0);

function reasonsText(u: UnitAssessment): string {
  return u.reasons
    .map((r) => (r.count !== undefined ? `${r.label}×${r.count} ${r.points}` : r.value !== undefined ? `${r.label} ${(r.value * 100).toFixed(1)}% +${r.points}` : `${r.label} ${r.points}`))
    .join("；");
}

export const assessmentView: View = async (el, s) => {
  const years = Array.from({ length: 5 }, (_, i) => new Date().getFullYear() - i);
  const districts = districtsIn(s.role === "auditor" || s.role === "admin" ? CITY : s.district);
  const year = h("select", { name: "year", "aria-label": "年度" }, years.map((y) => option(String(y), `${y}年`)));
  const district = h("select", { name: "district", "aria-label": "区县" }, districts.map((d) => option(d.code, d.name, d.code === s.district)));
  const body = h("div", { class: "assessment" });
  const load = async () => {
    replace(body, loading("正在计算年度考核…"));
    try {
      const a = await get<Assessment>("/v1/assessments", { year: (year as HTMLSelectElement).value, district: (district as HTMLSelectElement).value });
      replace(
        body,
        h("p", { class: "note", "data-formula": "1" }, a.formula),
        h(
          "div",
          { class: "table-wrap" },
          h(
            "table",
            { "data-assessment": a.district },
            h("thead", null, h("tr", null, ["名次", "单位", "得分", "按时签收率", "按时办结率", "满意率", "问责记录", "催办/督办", "问责措施", "得分依据"].map((t) => h("th", null, t)))),
            h(
              "tbody",
              null,
              a.units.map((u) =>
                h(
                  "tr",
                  { "data-unit": u.unit },
                  h("td", null, u.rank ? String(u.rank) : "—"),
                  h("td", null, u.name),
                  h("td", { class: "score" }, u.score === null ? "无数据" : u.score.toFixed(1)),
                  h("td", null, pct(u.figures.on_time_accept_rate)),
                  h("td", null, pct(u.figures.on_time_resolve_rate)),
                  h("td", null, pct(u.figures.satisfaction_rate)),
                  h("td", { class: total(u.violations) ? "hot" : "" }, String(total(u.violations))),
                  h("td", null, String(total(u.urges))),
                  h("td", { class: total(u.actions) ? "hot" : "" }, String(total(u.actions))),
                  h("td", { class: "reasons" }, h("small", null, reasonsText(u))),
                ),
              ),
            ),
          ),
        ),
      );
      body.setAttribute("data-loaded", "1");
    } catch (err) {
      replace(body, errorBox(err, () => void load()));
    }
  };
  year.addEventListener("change", () => void load());
  district.addEventListener("change", () => void load());
  replace(el, h("h1", null, "年度考核"), h("div", { class: "toolbar" }, year, district), body);
  await load();
};

// --- 问责跟进 on a violation (used by the supervision board) ------------------------------------------

const ACTIONS: [string, string][] = [
  ["remind", "提醒"],
  ["interview", "约谈"],
  ["refer_discipline", "移送纪委"],
];

export function accountabilityForm(violationId: string, s: Session): HTMLElement | null {
  if (s.role !== "supervisor" && s.role !== "chief") return null;
  const kind = h("select", { name: "kind", "aria-label": "问责措施" }, ACTIONS.map(([v, t]) => option(v, t)));
  const note = h("input", { name: "note", placeholder: "说明（可选）", maxlength: "1000" });
  const button = h(
    "button",
    {
      type: "button",
      "data-accountability": violationId,
      onclick: async () => {
        (button as HTMLButtonElement).disabled = true;
        try {
          await post(`/v1/violations/${encodeURIComponent(violationId)}/actions`, {
            kind: (kind as HTMLSelectElement).value,
            note: (note as HTMLInputElement).value || undefined,
          });
          toast("已记录问责措施，并通知责任单位");
          refresh();
        } catch (err) {
          toast(err instanceof Error ? err.message : String(err), "error");
          (button as HTMLButtonElement).disabled = false;
        }
      },
    },
    "问责",
  );
  return h("span", { class: "accountability" }, kind, note, button);
}

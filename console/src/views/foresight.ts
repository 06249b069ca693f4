// 报告 (每月一题 / 年度大数据分析报告) and 热点 (未诉先办): CONTRACT §13.

import { get, post, serverNow, type Session } from "../api";
import { h, option, replace } from "../dom";
import { CITY, categoryName, departmentName, districtName } from "../directory";
import { when } from "../format";
import { empty, into, toast } from "../ui";
import type { View } from "../main";
import { districtFilter, refreshButton, toolbar } from "./common";

interface Report {
  period: string;
  kind: "month" | "year";
  district: string;
  from: string;
  to: string;
  generated_at: string;
  html_url: string;
  pdf_url: string;
  pdf_bytes: number;
}

interface Hotspot {
  id: string;
  district: string;
  grid: string;
  grid_name?: string | null;
  category: string;
  department: string | null;
  status: "open" | "case_opened" | "cooled";
  count: number;
  baseline_weekly: number;
  opened_at: string;
  case: string | null;
  merged: string[];
  events: { type: string; at: string }[];
}

const HOTSPOT_STATUS: Record<string, string> = { open: "待处置", case_opened: "已主动立案", cooled: "已降温" };

function lastMonth(): string {
  const d = new Date(serverNow()); // the stack's clock: a moved local clock names its own last month
  d.setDate(1);
  d.setMonth(d.getMonth() - 1);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}`;
}

export const reportsView: View = async (el, s) => {
  let district = s.district === CITY ? "" : s.district;
  const list = h("div");
  const load = () =>
    into(list, async () => {
      const { items } = await get<{ items: Report[] }>("/v1/reports", district ? { district } : {});
      if (!items.length) return empty("暂无报告：每月1日自动生成，也可在上方立即生成");
      return h(
        "div",
        { class: "table-wrap" },
        h(
          "table",
          { class: "table", "data-reports": "1" },
          h("thead", null, h("tr", null, ["期间", "类型", "范围", "生成时间", "下载"].map((t) => h("th", null, t)))),
          h(
            "tbody",
            null,
            items.map((r) =>
              h(
                "tr",
                { "data-report": `${r.period}#${r.district}` },
                h("td", null, r.period),
                h("td", null, r.kind === "month" ? "每月一题" : "年度大数据分析报告"),
                h("td", null, districtName(r.district)),
                h("td", null, when(r.generated_at)),
                h(
                  "td",
                  null,
                  h("a", { href: r.pdf_url, target: "_blank", rel: "noopener" }, `PDF（${Math.ceil(r.pdf_bytes / 1024)} KB）`),
                  " · ",
                  h("a", { href: r.html_url, target: "_blank", rel: "noopener" }, "网页版"),
                ),
              ),
            ),
          ),
        ),
      );
    });
  const period = h("input", { name: "period", value: lastMonth(), placeholder: "2026-11 或 2026", size: 8, "aria-label": "期间" });
  const canMake = ["supervisor", "chief", "admin"].includes(s.role);
  const make = h(
    "button",
    {
      type: "button",
      "data-make-report": "1",
      onclick: async () => {
        make.setAttribute("disabled", "true");
        try {
          await post("/v1/reports", { period: period.value.trim(), ...(district ? { district } : {}) });
          toast("报告已生成");
          await load();
        } catch (err) {
          toast(err instanceof Error ? err.message : String(err), "error");
        } finally {
          make.removeAttribute("disabled");
        }
      },
    },
    "立即生成",
  );
  const select = districtFilter(s, district, (v) => {
    district = v;
    void load();
  }, "全市");
  replace(el, toolbar("报告", select, canMake ? period : null, canMake ? make : null, refreshButton(() => void load())), list);
  await load();
};

function heatTable(items: Hotspot[], s: Session, reload: () => void): HTMLElement {
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      { class: "table", "data-hotspots": "1" },
      h(
        "thead",
        null,
        h("tr", null, ["发现时间", "区县", "网格", "类别", "近7日", "前8周周均", "倍数", "承办单位", "状态", ""].map((t) => h("th", null, t))),
      ),
      h(
        "tbody",
        null,
        items.map((x) => {
          const ratio = x.baseline_weekly > 0 ? `${(x.count / x.baseline_weekly).toFixed(1)}×` : "新发";
          const heat = Math.min(1, x.count / 20);
          const act =
            x.status === "open" && s.role === "dispatcher"
              ? h(
                  "button",
                  {
                    type: "button",
                    class: "secondary",
                    "data-hotspot-case": x.id,
                    onclick: async () => {
                      try {
                        const r = await post<Hotspot & { merged_now: number }>(`/v1/hotspots/${encodeURIComponent(x.id)}/case`, {});
                        toast(`已主动立案 ${r.case}，并单 ${r.merged_now} 件`);
                        reload();
                      } catch (err) {
                        toast(err instanceof Error ? err.message : String(err), "error");
                      }
                    },
                  },
                  "主动立案",
                )
              : x.case
                ? h("a", { href: `#/p/${encodeURIComponent(x.case)}` }, `${x.case}（并单${x.merged.length}）`)
                : null;
          const row = h(
            "tr",
            { "data-hotspot": x.id },
            h("td", null, when(x.opened_at)),
            h("td", null, districtName(x.district)),
            h("td", { title: x.grid }, x.grid_name ?? x.grid),
            h("td", null, categoryName(x.category)),
            h("td", null, String(x.count)),
            h("td", null, String(x.baseline_weekly)),
            h("td", null, ratio),
            h("td", null, departmentName(x.department)),
            h("td", null, HOTSPOT_STATUS[x.status] ?? x.status),
            h("td", null, act),
          );
          // The page's CSP refuses style attributes; the CSSOM is allowed: the hotter, the redder.
          row.style.background = `rgba(220, 60, 40, ${(0.08 + 0.3 * heat).toFixed(2)})`;
          return row;
        }),
      ),
    ),
  );
}

function bars(weeks: number[], top: number): HTMLElement {
  const box = h("div", { class: "hotspot-bars" });
  Object.assign(box.style, { display: "flex", gap: "4px", alignItems: "flex-end", height: "80px" });
  weeks.forEach((n, i) => {
    const bar = h("div", { title: `${11 - i === 0 ? "本周" : `${11 - i}周前`}：${n}个` });
    Object.assign(bar.style, { width: "18px", background: "#c0392b", height: `${Math.round((n / top) * 76) + 2}px` });
    box.appendChild(bar);
  });
  return box;
}

/** The trend: hotspots opened per week over the last 12 weeks, as bars. */
function trend(items: Hotspot[]): HTMLElement {
  const weeks = new Array(12).fill(0);
  const now = serverNow();
  for (const x of items) {
    const age = Math.floor((now - Date.parse(x.opened_at)) / (7 * 86400e3));
    if (age >= 0 && age < 12) weeks[11 - age] += 1;
  }
  const top = Math.max(1, ...weeks);
  return h(
    "div",
    { class: "hotspot-trend", "aria-label": "近12周热点数" },
    h("h3", null, "近12周新发热点"),
    bars(weeks, top),
  );
}

export const hotspotsView: View = async (el, s) => {
  let district = s.district === CITY ? "" : s.district;
  let status = "";
  const body = h("div");
  const load = () =>
    into(body, async () => {
      const { items } = await get<{ items: Hotspot[] }>("/v1/hotspots", district ? { district } : {});
      const shown = status ? items.filter((x) => x.status === status) : items;
      if (!items.length) return empty("暂无热点：每小时按网格×类别比对近7日与前8周");
      return [trend(items), shown.length ? heatTable(shown, s, () => void load()) : empty("该状态下暂无热点")];
    });
  const statusSelect = h(
    "select",
    { name: "status", "aria-label": "状态" },
    option("", "全部状态", true),
    Object.entries(HOTSPOT_STATUS).map(([v, t]) => option(v, t)),
  );
  statusSelect.addEventListener("change", () => {
    status = statusSelect.value;
    void load();
  });
  const select = districtFilter(s, district, (v) => {
    district = v;
    void load();
  });
  replace(el, toolbar("热点", select, statusSelect, refreshButton(() => void load())), body);
  await load();
};

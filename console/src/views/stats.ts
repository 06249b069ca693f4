// 数据看板: GET /v1/stats (CONTRACT §6) — volume per day, on-time rates per stage, the three
// rates (响应率, 解决率, 满意率) beside 办结率 and 即办率, the channels side by side, and the
// departments ranked. A 404 means no figures yet.

import { ApiError, get, serverNow, type Query } from "../api";
import { chart, COLORS } from "../charts";
import { h, replace, section, type Child } from "../dom";
import { departmentName, districtName } from "../directory";
import { percent, ymd } from "../format";
import { CHANNEL, label } from "../labels";
import { leave } from "../refresh";
import { empty, errorBox, limiter, loading } from "../ui";
import type { View } from "../main";
import { initialWhere, refreshButton, toolbar, whereFilters } from "./common";

interface Rate {
  value: number | null;
  numerator: number;
  denominator: number;
}
interface Figures {
  received: number;
  closed: number;
  overdue_open: number;
  on_time_dispatch_rate: Rate;
  on_time_accept_rate: Rate;
  on_time_resolve_rate: Rate;
  resolution_rate: Rate;
  satisfaction_rate: Rate;
  return_rate: Rate;
  reopen_rate: Rate;
  /** 办结率 and 即办率 (CONTRACT §6, from §9): older stages may not send them. */
  completion_rate?: Rate;
  on_spot_rate?: Rate;
  mean_working_days_to_close: number | null;
}
interface Stats {
  from: string;
  to: string;
  total: Figures;
  by_district?: Record<string, Figures>;
  by_department?: Record<string, Figures>;
  by_day?: Record<string, Figures>;
  by_channel?: Record<string, Figures>;
  by_category?: Record<string, Figures>;
}

const DAY = 86400000;
const DAILY_DAYS = 14;

const pct = (r: Rate | undefined) => (r && r.value !== null ? Math.round(r.value * 1000) / 10 : null);

function rateCard(title: string, r: Rate | undefined, kind: string, hint: string): HTMLElement {
  return h(
    "div",
    { class: "kpi rate", "data-rate": kind },
    h("span", null, title),
    h("b", null, percent(r?.value)),
    h("small", null, r ? `${r.numerator} / ${r.denominator}` : "—"),
    h("small", { class: "muted" }, hint),
  );
}

function count(title: string, n: number | null, kind: string, unit = "件", digits = 0): HTMLElement {
  return h(
    "div",
    { class: "kpi", "data-kpi": kind },
    h("span", null, title),
    h("b", null, n === null ? "暂无" : n.toFixed(digits)),
    h("small", null, n === null ? "" : unit),
  );
}

function rankTable(by: Record<string, Figures>, name: (code: string) => string, what: string): HTMLElement {
  const entries = Object.entries(by).sort((a, b) => b[1].received - a[1].received);
  if (!entries.length) return empty("暂无数据");
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      { class: "ranking", "data-ranking": what },
      h("thead", null, h("tr", null, ["排名", what, "受理", "结案", "超期未办结", "按时签收率", "按时办结率", "解决率", "满意率", "退单率"].map((t) => h("th", null, t)))),
      h(
        "tbody",
        null,
        entries.map(([code, f], i) =>
          h(
            "tr",
            null,
            h("td", null, String(i + 1)),
            h("td", null, name(code)),
            h("td", null, String(f.received)),
            h("td", null, String(f.closed)),
            h("td", { class: f.overdue_open ? "hot" : "" }, String(f.overdue_open)),
            [f.on_time_accept_rate, f.on_time_resolve_rate, f.resolution_rate, f.satisfaction_rate, f.return_rate].map((r) => h("td", null, percent(r.value))),
          ),
        ),
      ),
    ),
  );
}

/** A rate in a table cell: the percentage and its fraction (即办率 1/1). */
function rateCell(r: Rate | undefined, kind: string): HTMLElement {
  return h(
    "td",
    { "data-col": kind },
    percent(r?.value),
    r ? h("small", { class: "muted frac" }, ` ${r.numerator}/${r.denominator}`) : null,
  );
}

/** 各渠道: every channel of the contract in a fixed order (区县诉求专线 apart from 12345热线), then any other. */
function channelTable(by: Record<string, Figures>): HTMLElement {
  const codes = [...Object.keys(CHANNEL), ...Object.keys(by).filter((c) => !(c in CHANNEL))];
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      { class: "ranking", "data-ranking": "channel" },
      h("thead", null, h("tr", null, ["渠道", "受理", "结案", "办结率", "即办率", "按时办结率", "解决率", "满意率", "超期未办结"].map((t) => h("th", null, t)))),
      h(
        "tbody",
        null,
        codes.map((code) => {
          const f = by[code];
          return h(
            "tr",
            { "data-channel": code, class: f ? "" : "muted" },
            h("td", null, label(CHANNEL, code)),
            h("td", { "data-col": "received" }, String(f?.received ?? 0)),
            h("td", { "data-col": "closed" }, String(f?.closed ?? 0)),
            rateCell(f?.completion_rate, "completion_rate"),
            rateCell(f?.on_spot_rate, "on_spot_rate"),
            rateCell(f?.on_time_resolve_rate, "on_time_resolve_rate"),
            rateCell(f?.resolution_rate, "resolution_rate"),
            rateCell(f?.satisfaction_rate, "satisfaction_rate"),
            h("td", { class: f?.overdue_open ? "hot" : "" }, String(f?.overdue_open ?? 0)),
          );
        }),
      ),
    ),
  );
}

function threeRatesChart(title: string, by: Record<string, Figures>, name: (code: string) => string): HTMLElement {
  const entries = Object.entries(by).sort((a, b) => b[1].received - a[1].received).slice(0, 10);
  return chart(title, {
    type: "bar",
    data: {
      labels: entries.map(([c]) => name(c).replace(/^阜新市|^阜新蒙古族自治县/, "")),
      datasets: [
        { label: "响应率", data: entries.map(([, f]) => pct(f.on_time_accept_rate)), backgroundColor: COLORS[0] },
        { label: "解决率", data: entries.map(([, f]) => pct(f.resolution_rate)), backgroundColor: COLORS[2] },
        { label: "满意率", data: entries.map(([, f]) => pct(f.satisfaction_rate)), backgroundColor: COLORS[1] },
      ],
    },
    options: { scales: { y: { min: 0, max: 100, ticks: { callback: (v) => `${v}%` } } } },
  });
}

async function daily(query: Query, to: number, days: number, given?: Record<string, Figures>): Promise<[string, number][]> {
  const dates = Array.from({ length: days }, (_, i) => ymd(to - (days - 1 - i) * DAY));
  if (given) return dates.map((d) => [d, given[d]?.received ?? 0]);
  const limit = limiter(4);
  return Promise.all(
    dates.map((d) => limit(() => get<Stats>("/v1/stats", { ...query, from: d, to: d })).then((r): [string, number] => [d, r.total.received])),
  );
}

export const statsView: View = async (el, s) => {
  let days = 30;
  const where = initialWhere(s);
  const body = h("div", { class: "stats" });

  const load = async () => {
    leave();
    replace(body, loading("正在统计…"));
    const today = serverNow();
    const to = ymd(today);
    const from = ymd(today - (days - 1) * DAY);
    const { district, department } = where;
    const scope: Query = s.role === "handler" ? {} : { district: department ? null : district || null, department: department || null };
    let stats: Stats;
    try {
      stats = await get<Stats>("/v1/stats", { ...scope, from, to });
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) {
        replace(body, h("div", { class: "empty no-data", "data-stats": "none" }, h("p", null, "暂无数据"), h("small", null, "统计接口尚未开放或当前范围内没有数据。")));
      } else replace(body, errorBox(err, () => void load()));
      return;
    }
    const t = stats.total;
    const parts: Child[] = [
      h("p", { class: "muted" }, `统计区间：${stats.from} 至 ${stats.to}（按受理时间）`),
      h(
        "div",
        { class: "kpis" },
        count("受理", t.received, "received"),
        count("结案", t.closed, "closed"),
        count("超期未办结", t.overdue_open, "overdue_open"),
        count("平均办结用时", t.mean_working_days_to_close, "mean_days", "个工作日", 1),
      ),
      section(
        "三率及办结、即办",
        h(
          "div",
          { class: "kpis" },
          rateCard("响应率", t.on_time_accept_rate, "on_time_accept_rate", "按时签收 ÷ 应签收"),
          rateCard("解决率", t.resolution_rate, "resolution_rate", "结案未重办 ÷ 结案"),
          rateCard("满意率", t.satisfaction_rate, "satisfaction_rate", "满意与基本满意 ÷ 已评价"),
        ),
        h(
          "div",
          { class: "kpis small" },
          rateCard("办结率", t.completion_rate, "completion_rate", "已结案 ÷ 受理"),
          rateCard("即办率", t.on_spot_rate, "on_spot_rate", "窗口/热线当场答复 ÷ 受理"),
          rateCard("按时分拨率", t.on_time_dispatch_rate, "on_time_dispatch_rate", ""),
          rateCard("按时办结率", t.on_time_resolve_rate, "on_time_resolve_rate", ""),
          rateCard("退单率", t.return_rate, "return_rate", ""),
          rateCard("重办率", t.reopen_rate, "reopen_rate", ""),
        ),
      ),
    ];
    const charts = h("div", { class: "chart-grid" });
    parts.push(charts);
    charts.appendChild(
      section(
        "各阶段按时率",
        chart("各阶段按时率", {
          type: "bar",
          data: {
            labels: ["分拨", "签收", "办结"],
            datasets: [
              {
                label: "按时率（%）",
                data: [pct(t.on_time_dispatch_rate), pct(t.on_time_accept_rate), pct(t.on_time_resolve_rate)],
                backgroundColor: [COLORS[0], COLORS[1], COLORS[2]],
              },
            ],
          },
          options: { plugins: { legend: { display: false } }, scales: { y: { min: 0, max: 100, ticks: { callback: (v) => `${v}%` } } } },
        }),
      ),
    );
    const dailyBox = h("div", null, loading("正在统计每日受理量…"));
    charts.appendChild(section(`每日受理量（近${Math.min(days, DAILY_DAYS)}天）`, dailyBox));
    const byDistrict = stats.by_district ?? {};
    const byDepartment = stats.by_department ?? {};
    if (stats.by_channel) parts.push(section("各渠道受理与办理", channelTable(stats.by_channel)));
    if (Object.keys(byDistrict).length > 1) {
      parts.push(section("各区县三率", threeRatesChart("各区县三率", byDistrict, districtName)));
    }
    if (Object.keys(byDepartment).length) {
      parts.push(section("部门三率（受理量前10）", threeRatesChart("部门三率", byDepartment, departmentName)));
      parts.push(section("部门排名", rankTable(byDepartment, departmentName, "部门")));
    }
    if (Object.keys(byDistrict).length > 1) parts.push(section("区县排名", rankTable(byDistrict, districtName, "区县")));
    replace(body, parts);
    body.setAttribute("data-loaded", "1");
    try {
      const series = await daily({ ...scope }, today, Math.min(days, DAILY_DAYS), stats.by_day);
      replace(
        dailyBox,
        chart("每日受理量", {
          type: "line",
          data: {
            labels: series.map(([d]) => d.slice(5)),
            datasets: [{ label: "受理量", data: series.map(([, n]) => n), borderColor: COLORS[0], backgroundColor: COLORS[0], tension: 0 }],
          },
          options: { plugins: { legend: { display: false } }, scales: { y: { min: 0, ticks: { precision: 0 } } } },
        }),
      );
    } catch (err) {
      replace(dailyBox, errorBox(err));
    }
  };

  const windowSelect = h(
    "select",
    { name: "window", "aria-label": "统计区间" },
    [7, 30, 90].map((n) => h("option", { value: String(n), selected: n === days }, `近${n}天`)),
  );
  windowSelect.addEventListener("change", () => {
    days = Number(windowSelect.value);
    void load();
  });
  replace(
    el,
    toolbar(
      "数据看板",
      windowSelect,
      ...whereFilters(s, where, () => void load(), s.role !== "handler"),
      refreshButton(() => void load()),
    ),
    body,
  );
  await load();
};

// 督办: overdue (overdue=true), due soon and escalated petitions by district and department,
// with the violations (问责记录); chief handlers see what reached them and write 批示.

import { actionsFor } from "../actions";
import { get, type Query, type Session } from "../api";
import { badge, h, replace, section, type Child } from "../dom";
import { CITY, departmentName, districtName, districtsIn } from "../directory";
import { countdown, when } from "../format";
import { ESCALATION, label, NOTIFY_CHANNEL, NOTIFY_KIND, NOTIFY_STATUS, OPEN_STATUSES, STAGE, VIOLATION } from "../labels";
import { petitionCard, type Page, type Petition } from "../petition";
import { refresh } from "../refresh";
import { empty, errorBox, loading } from "../ui";
import type { View } from "../main";
import { initialWhere, refreshButton, toolbar, whereFilters } from "./common";
import { accountabilityForm } from "./chief";

const MAX_PAGES = 5;

interface Violation {
  id: string;
  unit: string;
  district: string;
  kind: string;
  petition_id: string;
  stage: string;
  at: string;
}

/** A notification nobody received for sure (GET /v1/notifications/attention): a person must follow up. */
interface Undelivered {
  id: string;
  petition_id: string;
  kind: string;
  channel: string;
  status: string;
  attempts: number;
  problem: string | null;
  created_at: string;
}

async function all(query: Query): Promise<{ items: Petition[]; truncated: boolean }> {
  const items: Petition[] = [];
  let cursor: string | null = null;
  for (let i = 0; i < MAX_PAGES; i++) {
    const page: Page = await get<Page>("/v1/petitions", { ...query, limit: 100, cursor });
    items.push(...page.items);
    cursor = page.next_cursor;
    if (!cursor) return { items, truncated: false };
  }
  return { items, truncated: true };
}

const unitOf = (p: Petition) => p.department ?? `${p.district}.dispatch`;

function reachesChief(p: Petition, s: Session): boolean {
  if (s.role !== "chief") return false;
  if (s.district === CITY) return p.escalation_level === "city";
  return p.escalation_level === "district" || p.escalation_level === "city";
}

function rows(kind: string, items: Petition[], emptyText: string): HTMLElement {
  if (!items.length) return empty(emptyText);
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      { "data-board": kind },
      h("thead", null, h("tr", null, ["编号", "诉求", "区县", "承办单位", "阶段", "截止", "时限", "升级"].map((t) => h("th", null, t)))),
      h(
        "tbody",
        null,
        items.map((p) => {
          const due = p.stage?.due_at ?? null;
          const c = due ? countdown(due) : null;
          return h(
            "tr",
            { "data-petition": p.id },
            h("td", null, h("a", { href: `#/p/${p.id}` }, p.id)),
            h("td", { class: "snippet" }, p.title || p.content),
            h("td", null, districtName(p.district)),
            h("td", null, departmentName(unitOf(p))),
            h("td", null, p.stage ? label(STAGE, p.stage.name) : "—"),
            h("td", null, when(due)),
            h("td", null, c && p.stage?.running ? h("span", { class: `countdown${c.overdue ? " overdue" : ""}`, "data-due": due as string }, c.text) : "—"),
            h("td", null, p.escalation_level !== "none" ? badge(label(ESCALATION, p.escalation_level), "escalated") : "—"),
          );
        }),
      ),
    ),
  );
}

function summary(groupBy: "district" | "unit", overdue: Petition[], soon: Petition[], escalated: Petition[], violations: Violation[]): HTMLElement {
  const key = (p: Petition) => (groupBy === "district" ? p.district : unitOf(p));
  const vkey = (v: Violation) => (groupBy === "district" ? v.district : v.unit);
  const groups = new Map<string, number[]>();
  const bump = (k: string, i: number) => {
    if (!groups.has(k)) groups.set(k, [0, 0, 0, 0]);
    groups.get(k)![i] += 1;
  };
  overdue.forEach((p) => bump(key(p), 0));
  soon.forEach((p) => bump(key(p), 1));
  escalated.forEach((p) => bump(key(p), 2));
  violations.forEach((v) => bump(vkey(v), 3));
  if (!groups.size) return empty("辖区内暂无超期、即将到期或升级的诉求");
  const sorted = [...groups.entries()].sort((a, b) => b[1][0] - a[1][0] || b[1][3] - a[1][3]);
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      { class: "summary", "data-summary": groupBy },
      h("thead", null, h("tr", null, [groupBy === "district" ? "区县" : "承办单位", "超期", "即将到期", "已升级", "问责记录"].map((t) => h("th", null, t)))),
      h(
        "tbody",
        null,
        sorted.map(([k, n]) =>
          h(
            "tr",
            null,
            h("td", null, groupBy === "district" ? districtName(k) : departmentName(k)),
            n.map((x, i) => h("td", { class: x > 0 && i !== 1 ? "hot" : "" }, String(x))),
          ),
        ),
      ),
    ),
  );
}

function violationsTable(items: Violation[], s: Session): HTMLElement {
  if (!items.length) return empty("暂无问责记录");
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      { "data-board": "violations" },
      h("thead", null, h("tr", null, ["时间", "单位", "问题", "阶段", "诉求", "问责跟进"].map((t) => h("th", null, t)))),
      h(
        "tbody",
        null,
        items.map((v) =>
          h(
            "tr",
            { "data-petition": v.petition_id },
            h("td", null, when(v.at)),
            h("td", null, departmentName(v.unit)),
            h("td", null, label(VIOLATION, v.kind)),
            h("td", null, label(STAGE, v.stage)),
            h("td", null, h("a", { href: `#/p/${v.petition_id}` }, v.petition_id)),
            h("td", null, accountabilityForm(v.id, s) ?? "—"),
          ),
        ),
      ),
    ),
  );
}

function undeliveredTable(items: Undelivered[]): HTMLElement {
  if (!items.length) return empty("暂无需人工核实的通知");
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      { "data-board": "undelivered" },
      h("thead", null, h("tr", null, ["时间", "通知", "方式", "状态", "尝试", "诉求"].map((t) => h("th", null, t)))),
      h(
        "tbody",
        null,
        items.map((n) =>
          h(
            "tr",
            { "data-notification": n.id, "data-petition": n.petition_id },
            h("td", null, when(n.created_at)),
            h("td", null, label(NOTIFY_KIND, n.kind)),
            h("td", null, label(NOTIFY_CHANNEL, n.channel)),
            h("td", null, label(NOTIFY_STATUS, n.status), n.problem ? h("small", { class: "muted" }, `（${n.problem === "no phone number" ? "无手机号" : n.problem}）`) : null),
            h("td", null, String(n.attempts)),
            h("td", null, h("a", { href: `#/p/${n.petition_id}` }, n.petition_id)),
          ),
        ),
      ),
    ),
  );
}

export const boardView: View = async (el, s) => {
  const where = initialWhere(s);
  const body = h("div", { class: "board" });

  const load = async () => {
    replace(body, loading("正在汇总督办信息…"));
    const { district, department } = where;
    const query: Query = { district: district || null, department: department || null };
    const districts = department ? [] : district ? [district] : districtsIn(s.district).map((d) => d.code);
    try {
      const [overdue, everything, violationPages, attention] = await Promise.all([
        all({ ...query, overdue: true }),
        all(query),
        department
          ? Promise.all([get<{ items: Violation[] }>("/v1/violations", { unit: department })])
          : Promise.all(districts.map((d) => get<{ items: Violation[] }>("/v1/violations", { district: d }))),
        get<{ items: Undelivered[] }>("/v1/notifications/attention", { district: (department ? department.split(".")[0] : district) || null }),
      ]);
      const undelivered = department ? attention.items.filter((n) => everything.items.some((p) => p.id === n.petition_id)) : attention.items;
      const open = everything.items.filter((p) => OPEN_STATUSES.includes(p.status));
      const overdueOpen = overdue.items.filter((p) => OPEN_STATUSES.includes(p.status));
      const soon = open.filter((p) => p.sla_state === "due_soon");
      const escalated = open.filter((p) => p.escalation_level !== "none");
      const pending = open.filter((p) => p.extension_pending);
      const violations = violationPages.flatMap((v) => v.items).sort((a, b) => (a.at < b.at ? 1 : -1));
      const mine = everything.items.filter((p) => reachesChief(p, s));
      const parts: Child[] = [
        h(
          "div",
          { class: "kpis" },
          kpi("已超期", overdueOpen.length, "overdue"),
          kpi("即将到期", soon.length, "due-soon"),
          kpi("已升级", escalated.length, "escalated"),
          kpi("问责记录", violations.length, "violations"),
          kpi("待核实通知", undelivered.length, "undelivered"),
        ),
        overdue.truncated || everything.truncated ? h("p", { class: "note warn" }, `仅统计最近 ${MAX_PAGES * 100} 件，请按区县或部门筛选查看全部。`) : null,
      ];
      if (s.role === "chief") {
        parts.push(
          section(
            s.district === CITY ? "呈报市首席办事员的诉求" : "呈报我处的诉求",
            mine.length
              ? h("div", { class: "cards", "data-board": "chief" }, mine.map((p) => petitionCard(p, actionsFor(p, s, { onDone: refresh }))))
              : empty("暂无升级至本级的诉求"),
          ),
        );
      }
      parts.push(
        section(district || department ? "按承办单位" : "按区县", summary(district || department ? "unit" : "district", overdueOpen, soon, escalated, violations)),
        section("已超期", rows("overdue", overdueOpen, "暂无超期诉求")),
        section("已升级至首席办事员", rows("escalated", escalated, "暂无升级诉求")),
        section("即将到期", rows("due-soon", soon, "暂无即将到期的诉求")),
      );
      if (s.role === "supervisor") {
        parts.push(
          section(
            "延期申请待审批",
            pending.length
              ? h("div", { class: "cards", "data-board": "extensions" }, pending.map((p) => petitionCard(p, actionsFor(p, s, { onDone: refresh }))))
              : empty("暂无延期申请"),
          ),
        );
      }
      parts.push(section("待人工核实的通知（发送失败或结果未知）", undeliveredTable(undelivered)));
      parts.push(section("问责记录", violationsTable(violations, s)));
      replace(body, parts);
      body.setAttribute("data-loaded", "1");
    } catch (err) {
      replace(body, errorBox(err, () => void load()));
    }
  };

  replace(
    el,
    toolbar(
      s.role === "chief" ? "督办·批示" : "督办",
      ...whereFilters(s, where, () => void load()),
      refreshButton(() => void load()),
    ),
    body,
  );
  await load();
};

function kpi(title: string, n: number, kind: string): HTMLElement {
  return h("div", { class: `kpi kpi-${kind}`, "data-kpi": kind }, h("span", null, title), h("b", null, String(n)));
}

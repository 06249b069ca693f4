// How a petition reads in the console: card, SLA countdown, timeline, notifications.

import { badge, h, type Child } from "./dom";
import { categoryName, departmentName, districtName } from "./directory";
import { countdown, when } from "./format";
import {
  CHANNEL,
  ESCALATION,
  EVENT,
  label,
  NOTIFY_CHANNEL,
  NOTIFY_KIND,
  NOTIFY_STATUS,
  PRIORITY,
  RATING,
  RETURN_REASON,
  SLA,
  STAGE,
  STATUS,
  STEP,
  VIOLATION,
} from "./labels";

export interface Stage {
  name: string;
  due_at: string | null;
  running: boolean;
  provisional: boolean;
}

export interface TimelineEvent {
  type: string;
  at: string;
  actor: string;
  [key: string]: unknown;
}

export interface Petition {
  id: string;
  status: string;
  status_label: string;
  channel: string;
  district: string;
  department: string | null;
  co_departments: string[];
  first_owner: string | null;
  /** 首问负责: the unit and person that received it, kept to the end. */
  first_inquiry?: { unit?: string | null; user?: string | null } | null;
  /** The desk that answered it on the spot (即办), when it did. */
  answered_by?: string | null;
  category: string | null;
  priority: string;
  title: string | null;
  content: string;
  anonymous: boolean;
  citizen: { name?: string | null; phone?: string | null } | null;
  location: { address?: string; grid?: string } | null;
  created_at: string;
  updated_at: string | null;
  stage: Stage | null;
  due_at: string | null;
  sla_state: string;
  escalation_level: string;
  /** 疑难/重点, flagged by a chief handler (on their board until closed). */
  key_case?: { by: string; note?: string | null; at: string } | null;
  returns: number;
  reopens: number;
  merged_into: string | null;
  merged: string[];
  extension_pending: { working_days: number; reason: string; by: string; at: string } | null;
  awaiting_feedback: boolean;
  rating: string | null;
  reply: string | null;
  timeline?: TimelineEvent[];
  /** §10 evidence on the timeline, each with a read link valid a few minutes (operators in scope). */
  evidence?: Evidence[] | null;
}

export interface Evidence {
  key: string;
  url: string | null;
  content_type?: string | null;
  expires_at?: string | null;
}

export interface Page {
  items: Petition[];
  next_cursor: string | null;
}

export function statusBadge(p: Petition): HTMLElement {
  return badge(label(STATUS, p.status), `status-${p.status}`);
}

export function slaBadge(p: Petition): HTMLElement | null {
  if (!p.stage) return null;
  return badge(label(SLA, p.sla_state), `sla-${p.sla_state}`);
}

export function escalationBadge(p: Petition): HTMLElement | null {
  if (!p.escalation_level || p.escalation_level === "none") return null;
  return badge(label(ESCALATION, p.escalation_level), "escalated");
}

/** The running stage: name, due time and a live countdown on the stack's clock. */
export function slaLine(p: Petition): HTMLElement {
  const stage = p.stage;
  if (!stage) return h("p", { class: "sla muted" }, p.status === "closed" ? "已结案，时限结束" : "当前无计时阶段");
  const due = stage.due_at;
  const parts: Child[] = [h("span", { class: "sla-stage" }, `${label(STAGE, stage.name)}阶段`)];
  if (due) {
    parts.push(h("span", null, `截止 ${when(due)}`));
    if (stage.running) {
      const c = countdown(due);
      parts.push(h("span", { class: `countdown${c.overdue ? " overdue" : ""}`, "data-due": due }, c.text));
    } else {
      parts.push(h("span", { class: "countdown paused" }, "计时暂停"));
    }
  } else {
    parts.push(h("span", { class: "countdown paused" }, stage.running ? "无截止时间" : "计时暂停"));
  }
  if (stage.provisional) parts.push(badge("截止时间暂定（当年节假日安排未发布）", "warn"));
  return h("p", { class: `sla sla-${p.sla_state}` }, parts);
}

export function citizenText(p: Petition): string {
  if (p.anonymous && !p.citizen?.phone) return "匿名";
  const c = p.citizen;
  if (!c) return "—";
  return [c.name, c.phone].filter(Boolean).join(" ") || "—";
}

function meta(rows: [string, Child][]): HTMLElement {
  return h(
    "dl",
    { class: "meta" },
    rows.map(([k, v]) => h("div", null, h("dt", null, k), h("dd", null, v))),
  );
}

export function petitionMeta(p: Petition, full = false): HTMLElement {
  const rows: [string, Child][] = [
    ["渠道", label(CHANNEL, p.channel)],
    ["区县", districtName(p.district)],
    ["分类", categoryName(p.category)],
    ["群众", h("span", { class: "citizen" }, citizenText(p))],
    ["受理时间", when(p.created_at)],
  ];
  if (p.location?.address) rows.push(["地址", p.location.address]);
  if (p.department) rows.push(["承办部门", departmentName(p.department)]);
  if (p.co_departments.length) rows.push(["协办单位", p.co_departments.map(departmentName).join("、")]);
  if (full) {
    if (p.first_inquiry?.unit) rows.push(["首问单位", h("span", { "data-first-unit": p.first_inquiry.unit }, departmentName(p.first_inquiry.unit))]);
    if (p.first_inquiry?.user) rows.push(["首问人", h("span", { "data-first-user": p.first_inquiry.user }, actorName(p.first_inquiry.user))]);
    if (p.answered_by) rows.push(["当场答复", h("span", { "data-answered-by": p.answered_by }, actorName(p.answered_by))]);
    if (p.first_owner) rows.push(["首办单位", departmentName(p.first_owner)]);
    rows.push(["优先级", label(PRIORITY, p.priority)]);
    rows.push(["升级", label(ESCALATION, p.escalation_level)]);
    rows.push(["退单次数", String(p.returns)]);
    rows.push(["重办次数", String(p.reopens)]);
    if (p.merged_into) rows.push(["已并入", h("a", { href: `#/p/${p.merged_into}` }, p.merged_into)]);
    if (p.merged.length) rows.push(["并入本件", p.merged.map((id) => h("a", { href: `#/p/${id}` }, id, " "))]);
    if (p.rating) rows.push(["群众评价", label(RATING, p.rating)]);
    if (p.location?.grid) rows.push(["网格", p.location.grid]);
  }
  return meta(rows);
}

/** "当场答复" when the desk answered it on the spot (即办), else "办结答复". */
export function replyTitle(p: Petition): string {
  return p.answered_by ? "当场答复" : "办结答复";
}

export function petitionCard(p: Petition, actions?: Child): HTMLElement {
  return h(
    "article",
    { class: "card", "data-petition": p.id, "data-status": p.status },
    h(
      "header",
      { class: "card-head" },
      h("a", { class: "pid", href: `#/p/${p.id}` }, p.id),
      statusBadge(p),
      p.priority === "urgent" ? badge("紧急", "urgent") : null,
      slaBadge(p),
      escalationBadge(p),
    ),
    h("h3", { class: "title" }, p.title || categoryName(p.category)),
    h("p", { class: "content" }, p.content),
    petitionMeta(p),
    p.reply ? h("p", { class: "reply" }, h("b", null, replyTitle(p) + "："), p.reply) : null,
    p.extension_pending
      ? h("p", { class: "note warn" }, `延期申请待审批：${p.extension_pending.working_days}个工作日（${p.extension_pending.reason}）`)
      : null,
    slaLine(p),
    actions ?? null,
  );
}

// --- timeline ------------------------------------------------------------------------------------

export function actorName(actor: string): string {
  if (actor === "system:sla") return "系统（时限监控）";
  if (actor === "system:notify") return "系统（消息发送）";
  if (actor.startsWith("system")) return "系统";
  if (actor.startsWith("channel:")) return `渠道：${label(CHANNEL, actor.slice(8))}`;
  return actor;
}

const str = (v: unknown): string => (v === null || v === undefined ? "" : String(v));

export function eventDetail(e: TimelineEvent): string {
  const parts: string[] = [];
  const add = (text: string | false | null | undefined) => {
    if (text) parts.push(text);
  };
  switch (e.type) {
    case "created":
      add(`渠道：${label(CHANNEL, str(e.channel))}`);
      add(e.suggested_department ? `建议承办：${departmentName(str(e.suggested_department))}` : "");
      add(e.priority === "urgent" && "紧急件");
      break;
    case "dispatched":
      add(`承办：${departmentName(str(e.department))}`);
      add(Array.isArray(e.co_departments) && e.co_departments.length > 0 && `协办：${e.co_departments.map((c) => departmentName(str(c))).join("、")}`);
      break;
    case "accepted":
      add(departmentName(str(e.department)));
      break;
    case "returned":
      add(`${departmentName(str(e.department))}退单`);
      add(`理由：${str(e.reason_label) || label(RETURN_REASON, str(e.reason))}`);
      add(e.returns ? `第${str(e.returns)}次退单` : "");
      break;
    case "transferred":
      add(`${departmentName(str(e.from))} → ${departmentName(str(e.department))}`);
      add(e.reason ? `理由：${str(e.reason)}` : "");
      break;
    case "extension_requested":
      add(`申请延期${str(e.working_days)}个工作日`);
      add(e.reason ? `理由：${str(e.reason)}` : "");
      break;
    case "extension_decided":
      add(`${e.approve ? "批准" : "不批准"}延期${str(e.working_days)}个工作日`);
      break;
    case "suspended":
      add(`理由：${str(e.reason)}`);
      add(e.consented_by ? `同意人：${str(e.consented_by)}` : "");
      break;
    case "resolved":
      add(`答复：${str(e.reply)}`);
      break;
    case "answered":
      add(e.unit ? `首问单位：${departmentName(str(e.unit))}` : "");
      add(`答复：${str(e.reply)}`);
      break;
    case "feedback":
      add(`评价：${str(e.rating_label) || label(RATING, str(e.rating))}`);
      add(e.comment ? `意见：${str(e.comment)}` : "");
      break;
    case "reopened":
      add(`第${str(e.reopens)}次重办，承办：${departmentName(str(e.department))}`);
      break;
    case "merged":
      add(e.into ? `并入 ${str(e.into)}` : `并入本件：${str(e.merged)}`);
      break;
    case "reminder":
    case "supervision_notice":
      add(`${label(STAGE, str(e.stage))}阶段`);
      add(e.to ? `对象：${departmentName(str(e.to))}` : "");
      add(e.supervisor ? `督办员：${str(e.supervisor)}` : "");
      break;
    case "escalated":
      add(label(ESCALATION, str(e.level)));
      add(e.chief ? `首席办事员：${str(e.chief)}` : "");
      add(e.stage ? `${label(STAGE, str(e.stage))}阶段${e.step ? label(STEP, str(e.step)) : ""}` : "");
      add(e.reason ? str(e.reason) : "");
      break;
    case "violation":
      add(`${label(VIOLATION, str(e.kind))}：${departmentName(str(e.unit))}`);
      break;
    case "notification":
      add(label(NOTIFY_KIND, str(e.kind)));
      add(label(NOTIFY_CHANNEL, str(e.channel)));
      add(label(NOTIFY_STATUS, str(e.status)));
      add(e.deliver_at ? `夜间免打扰，${when(str(e.deliver_at))}发送` : "");
      break;
  }
  if (e.note && e.type !== "instruction") add(`备注：${str(e.note)}`);
  if (e.type === "instruction") add(`批示：${str(e.note)}`);
  return parts.join("；");
}

export function timelineList(events: TimelineEvent[]): HTMLElement {
  return h(
    "ol",
    { class: "timeline" },
    events.map((e) =>
      h(
        "li",
        { class: `ev ev-${e.type}`, "data-event": e.type },
        h("time", null, when(e.at)),
        h("b", { class: "ev-type" }, label(EVENT, e.type)),
        h("span", { class: "ev-actor" }, actorName(e.actor)),
        h("span", { class: "ev-detail" }, eventDetail(e)),
      ),
    ),
  );
}

/** One row per notification: its latest status and how many attempts it took. */
export function notificationsTable(events: TimelineEvent[]): HTMLElement {
  const latest = new Map<string, TimelineEvent>();
  for (const e of events) if (e.type === "notification") latest.set(str(e.notification), e);
  if (!latest.size) return h("p", { class: "muted" }, "暂无通知");
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      { class: "notifications" },
      h("thead", null, h("tr", null, ["通知", "方式", "状态", "尝试次数", "时间"].map((t) => h("th", null, t)))),
      h(
        "tbody",
        null,
        [...latest.values()].map((e) =>
          h(
            "tr",
            { "data-notification": str(e.notification), "data-status": str(e.status) },
            h("td", null, label(NOTIFY_KIND, str(e.kind))),
            h("td", null, label(NOTIFY_CHANNEL, str(e.channel))),
            h("td", null, badge(label(NOTIFY_STATUS, str(e.status)), `notify-${str(e.status)}`)),
            h("td", null, str(e.attempts)),
            h("td", null, when(e.at)),
          ),
        ),
      ),
    ),
  );
}

export function suggestedDepartment(events: TimelineEvent[] | undefined): string | null {
  const created = events?.find((e) => e.type === "created");
  return created && typeof created.suggested_department === "string" ? created.suggested_department : null;
}

export function suggestedCoDepartments(events: TimelineEvent[] | undefined): string[] {
  const created = events?.find((e) => e.type === "created");
  const co = created?.suggested_co_departments;
  return Array.isArray(co) ? co.map(String) : [];
}

/** Each stage's clock: completed ones from the timeline (stage, stage_due_at, on_time), then the running one. */
export function stagesTable(p: Petition, events: TimelineEvent[]): HTMLElement {
  const done = events.filter((e) => typeof e.on_time === "boolean" && typeof e.stage === "string" && e.type !== "violation");
  const rows: HTMLElement[] = done.map((e) =>
    h(
      "tr",
      { "data-stage": str(e.stage) },
      h("td", null, label(STAGE, str(e.stage))),
      h("td", null, when(str(e.stage_due_at) || null)),
      h("td", null, `${label(EVENT, e.type)} ${when(e.at)}`),
      h("td", null, e.on_time ? badge("按时", "sla-on_time") : badge("超时", "sla-overdue")),
    ),
  );
  const stage = p.stage;
  if (stage) {
    const due = stage.due_at;
    const c = due ? countdown(due) : null;
    rows.push(
      h(
        "tr",
        { "data-stage": stage.name, class: "running" },
        h("td", null, `${label(STAGE, stage.name)}（当前）`),
        h("td", null, when(due)),
        h(
          "td",
          null,
          stage.running && c ? h("span", { class: `countdown${c.overdue ? " overdue" : ""}`, "data-due": due as string }, c.text) : h("span", { class: "countdown paused" }, "计时暂停"),
        ),
        h("td", null, slaBadge(p)),
      ),
    );
  }
  if (!rows.length) return h("p", { class: "muted" }, "无计时阶段");
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      { class: "stages" },
      h("thead", null, h("tr", null, ["阶段", "截止", "完成 / 剩余", "时限"].map((t) => h("th", null, t)))),
      h("tbody", null, rows),
    ),
  );
}

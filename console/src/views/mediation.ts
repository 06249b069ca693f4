// 调解 (CONTRACT §11): a mediator's own cases and next sessions, a session or an outcome per case,
// and the figures panel (GET /v1/stats/mediation). Other roles in scope read the cases masked.

import { get, post, type Session } from "../api";
import { badge, field, h, option, replace } from "../dom";
import { departmentName } from "../directory";
import { percent, when } from "../format";
import type { View } from "../main";
import { empty, into, toast } from "../ui";
import { districtFilter, refreshButton, toolbar } from "./common";

interface Party {
  role: string;
  name: string;
  phone: string;
}

interface Mediation {
  id: string;
  status: string;
  status_label: string;
  unit: string;
  mediator: string;
  kind: string;
  kind_label: string;
  pre_litigation: boolean;
  petition: string | null;
  parties: Party[];
  sessions: { at: string; notes?: string }[];
  next_session: string | null;
  result: string | null;
  agreement: string | null;
  referred_to_court: string | null;
  created_at: string;
}

interface Rate {
  value: number | null;
  numerator: number;
  denominator: number;
}

interface Figures {
  cases: number;
  concluded: number;
  agreements: number;
  success_rate: Rate;
}

interface Groups {
  total: Figures;
  by_center: Record<string, Figures>;
  by_mediator: Record<string, Figures>;
  by_kind: Record<string, Figures>;
}

interface Stats {
  from: string;
  to: string;
  mediation: Groups;
  pre_litigation: Groups;
  triage: Record<string, number>;
}

const PARTY_ROLE: Record<string, string> = { applicant: "申请人", respondent: "被申请人", third_party: "第三人" };
const KIND: Record<string, string> = {
  family: "婚姻家庭",
  neighbour: "邻里纠纷",
  labour: "劳动争议",
  property: "物业纠纷",
  contract: "合同纠纷",
  other: "其他纠纷",
};
const TRIAGE: Record<string, string> = { dispatch: "分拨派单", mediation: "调解", legal_aid: "法律援助", litigation: "诉讼引导" };

function sessionForm(m: Mediation, done: () => void): HTMLElement {
  const at = h("input", { type: "datetime-local", name: "at", required: true });
  const notes = h("input", { type: "text", name: "notes", maxlength: "200", placeholder: "地点、事项（可选）" });
  const form = h(
    "form",
    { class: "inline", "data-session-form": m.id },
    field("调解时间", at),
    field("备注", notes),
    h("button", { type: "submit" }, "安排调解"),
  );
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      // datetime-local has no zone: the operator means Beijing time.
      await post(`/v1/mediations/${m.id}/sessions`, { at: `${at.value}:00+08:00`, notes: notes.value || undefined });
      toast("已安排调解，当事人将收到短信通知");
      done();
    } catch (err) {
      toast(String((err as Error).message ?? err), "error");
    }
  });
  return form;
}

function outcomeForm(m: Mediation, done: () => void): HTMLElement {
  const result = h(
    "select",
    { name: "result" },
    option("agreement", "调解成功"),
    option("failed", "调解不成"),
    option("withdrawn", "撤回调解"),
  );
  const agreement = h("input", { type: "text", name: "agreement", maxlength: "500", placeholder: "调解协议内容" });
  const court = h("input", { type: "checkbox", name: "referred_to_court" });
  const form = h(
    "form",
    { class: "inline", "data-outcome-form": m.id },
    field("结果", result),
    field("协议", agreement),
    field("引导诉讼", court),
    h("button", { type: "submit" }, "记录结果"),
  );
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const body: Record<string, unknown> = { result: result.value };
    if (result.value === "agreement") body.agreement = agreement.value;
    if (result.value === "failed" && court.checked) body.referred_to_court = true;
    try {
      await post(`/v1/mediations/${m.id}/outcome`, body);
      toast("已记录调解结果");
      done();
    } catch (err) {
      toast(String((err as Error).message ?? err), "error");
    }
  });
  return form;
}

function caseCard(m: Mediation, s: Session, done: () => void): HTMLElement {
  const mine = s.role === "mediator" && s.department === m.unit && m.status === "open";
  return h(
    "article",
    { class: "card", "data-mediation": m.id, "data-status": m.status },
    h(
      "header",
      null,
      h("b", null, m.id),
      " ",
      badge(m.status_label, m.status === "agreement" ? "ok" : m.status === "open" ? "" : "warn"),
      " ",
      badge(m.kind_label || KIND[m.kind] || m.kind),
      m.pre_litigation ? badge("诉前调解") : null,
    ),
    h("p", { class: "muted" }, `${departmentName(m.unit)} · ${m.mediator} · 立案 ${when(m.created_at)}`),
    m.petition ? h("p", null, "关联诉求：", h("a", { href: `#/p/${m.petition}` }, m.petition)) : null,
    h(
      "ul",
      { class: "parties" },
      m.parties.map((p) => h("li", null, `${PARTY_ROLE[p.role] ?? p.role}：${p.name} ${p.phone}`)),
    ),
    m.next_session ? h("p", { "data-next-session": m.next_session }, `下次调解：${when(m.next_session)}`) : null,
    m.sessions.length ? h("p", { class: "muted" }, `已安排 ${m.sessions.length} 次调解`) : null,
    m.agreement ? h("p", null, `调解协议：${m.agreement}`) : null,
    m.referred_to_court ? h("p", null, `已引导至 ${departmentName(m.referred_to_court)}`) : null,
    mine ? [sessionForm(m, done), outcomeForm(m, done)] : null,
  );
}

function figuresTable(title: string, rows: Record<string, Figures>, label: (k: string) => string): HTMLElement {
  const keys = Object.keys(rows);
  return h(
    "section",
    { class: "panel" },
    h("h3", null, title),
    keys.length
      ? h(
          "table",
          { class: "figures" },
          h("thead", null, h("tr", null, h("th", null, ""), h("th", null, "案件"), h("th", null, "结案"), h("th", null, "调解成功率"))),
          h(
            "tbody",
            null,
            keys.map((k) => {
              const f = rows[k];
              return h(
                "tr",
                { "data-row": k },
                h("td", null, label(k)),
                h("td", null, String(f.cases)),
                h("td", null, String(f.concluded)),
                h("td", null, `${percent(f.success_rate.value)}（${f.success_rate.numerator}/${f.success_rate.denominator}）`),
              );
            }),
          ),
        )
      : empty("暂无数据"),
  );
}

function figuresPanel(stats: Stats): HTMLElement {
  const total = (title: string, g: Groups) =>
    figuresTable(title, { 合计: g.total, ...g.by_center }, (k) => (k === "合计" ? k : departmentName(k)));
  return h(
    "div",
    { class: "mediation-figures", "data-figures": "1" },
    h("p", { class: "muted" }, `${stats.from} 至 ${stats.to}（调解成功率 = 调解成功 ÷ 已结案）`),
    total("人民调解", stats.mediation),
    figuresTable("按纠纷类型", stats.mediation.by_kind, (k) => KIND[k] ?? k),
    figuresTable("按调解员", stats.mediation.by_mediator, (k) => k),
    total("诉前调解", stats.pre_litigation),
    h(
      "section",
      { class: "panel" },
      h("h3", null, "分流交办"),
      h(
        "ul",
        null,
        Object.entries(stats.triage).map(([route, n]) => h("li", { "data-triage": route }, `${TRIAGE[route] ?? route}：${n} 件`)),
      ),
    ),
  );
}

export const mediationView: View = async (el, s) => {
  let district = "";
  let tab: "cases" | "figures" = "cases";
  const body = h("div");
  const render = () =>
    void into(body, async () => {
      if (tab === "figures") return figuresPanel(await get<Stats>("/v1/stats/mediation", { district }));
      const query = s.role === "mediator" ? { mediator: s.user, district } : { district };
      const page = await get<{ items: Mediation[] }>("/v1/mediations", query);
      if (!page.items.length) return empty("暂无调解案件");
      const open = page.items.filter((m) => m.status === "open");
      const upcoming = open.filter((m) => m.next_session).sort((a, b) => (a.next_session! < b.next_session! ? -1 : 1));
      return h(
        "div",
        null,
        upcoming.length
          ? h(
              "section",
              { class: "panel", "data-upcoming": "1" },
              h("h3", null, "近期调解安排"),
              h("ul", null, upcoming.map((m) => h("li", null, `${when(m.next_session)} · ${m.id} · ${KIND[m.kind] ?? m.kind}`))),
            )
          : null,
        h("div", { class: "cards" }, page.items.map((m) => caseCard(m, s, render))),
      );
    });
  const switcher = h(
    "select",
    { name: "tab", "aria-label": "视图" },
    option("cases", s.role === "mediator" ? "我的调解案件" : "调解案件", true),
    option("figures", "调解统计"),
  );
  switcher.addEventListener("change", () => {
    tab = switcher.value as "cases" | "figures";
    render();
  });
  replace(
    el,
    toolbar(
      "调解",
      switcher,
      districtFilter(s, district, (v) => {
        district = v;
        render();
      }),
      refreshButton(render),
    ),
    body,
  );
  render();
};

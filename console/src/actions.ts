// The actions a user may take on a petition, derived from their role and scope. rules.json is
// machine.py's RULES (action -> from states, roles), kept equal by tests/e2e/test_console.py.
// What is not offered here the API refuses anyway.

import { describe, post, type Session } from "./api";
import { field, h, option, replace, type Child } from "./dom";
import { CITY, covers, departmentName, departmentsFor } from "./directory";
import { visibleLength } from "./format";
import { RETURN_REASON } from "./labels";
import RULES from "./rules.json";
import type { Petition } from "./petition";
import { toast } from "./ui";

export interface ActionCtx {
  onDone: (p: Petition) => void;
  /** The dispatch catalogue's suggestion (from the `created` event), when known or on its way. */
  suggestion?: Promise<Suggestion> | Suggestion;
  /** Other petitions on screen: candidates for the main petition of a merge (并单). */
  peers?: Petition[];
}

export interface Suggestion {
  department: string | null;
  co: string[];
}

type Body = Record<string, unknown>;

/** A form that posts one action and reports in Chinese; `build` returns the body or an error text. */
function actionForm(
  p: Petition,
  action: string,
  submit: string,
  controls: Child[],
  build: (data: FormData) => Body | string,
  ctx: ActionCtx,
  kind = "primary",
): HTMLFormElement {
  const error = h("p", { class: "form-error", role: "alert", hidden: true });
  const button = h("button", { type: "submit", class: kind }, submit);
  const form = h("form", { class: "action", "data-action": action, novalidate: true }, controls, h("div", { class: "form-foot" }, button, error));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const body = build(new FormData(form));
    if (typeof body === "string") {
      replace(error, body);
      error.hidden = false;
      return;
    }
    error.hidden = true;
    button.disabled = true;
    form.classList.add("busy");
    try {
      const updated = await post<Petition>(`/v1/petitions/${encodeURIComponent(p.id)}/${action}`, body);
      toast(`${submit}：操作成功（${p.id}）`);
      ctx.onDone(updated);
    } catch (err) {
      replace(error, describe(err));
      error.hidden = false;
      toast(describe(err), "error");
    } finally {
      button.disabled = false;
      form.classList.remove("busy");
    }
  });
  return form;
}

function more(title: string, ...children: Child[]): HTMLDetailsElement {
  return h("details", { class: "more" }, h("summary", null, title), children);
}

const text = (d: FormData, name: string): string => String(d.get(name) ?? "").trim();

function textarea(name: string, placeholder: string, required = false, rows = 3): HTMLTextAreaElement {
  return h("textarea", { name, rows, placeholder, required, maxlength: 2000 });
}

function departmentSelect(p: Petition, name: string, exclude: string | null = null): HTMLSelectElement {
  const deps = departmentsFor(p.district).filter((d) => d.code !== exclude);
  const local = deps.filter((d) => d.district === p.district);
  const city = deps.filter((d) => d.district !== p.district);
  return h(
    "select",
    { name, required: true },
    option("", "请选择承办部门"),
    h("optgroup", { label: "本区县部门" }, local.map((d) => option(d.code, d.name))),
    city.length ? h("optgroup", { label: "市直部门" }, city.map((d) => option(d.code, d.name))) : null,
  );
}

// --- dispatcher ------------------------------------------------------------------------------------

function dispatchForm(p: Petition, ctx: ActionCtx): HTMLFormElement {
  const lead = departmentSelect(p, "department");
  const hint = h("p", { class: "hint" }, "正在读取系统建议的承办部门…");
  const coBoxes = departmentsFor(p.district).map((d) =>
    h("label", { class: "check" }, h("input", { type: "checkbox", name: "co_departments", value: d.code }), d.name),
  );
  const syncCo = () => {
    for (const box of coBoxes) {
      const input = box.querySelector("input") as HTMLInputElement;
      const isLead = input.value === lead.value;
      input.disabled = isLead;
      if (isLead) input.checked = false;
    }
  };
  lead.addEventListener("change", syncCo);
  const apply = ({ department: code, co }: Suggestion) => {
    if (code && [...lead.options].some((o) => o.value === code)) {
      if (!lead.value) lead.value = code;
      const opt = [...lead.options].find((o) => o.value === code);
      if (opt && !opt.textContent?.includes("（系统建议）")) opt.textContent = `${opt.textContent}（系统建议）`;
      replace(hint, `系统建议：${departmentName(code)}`);
      hint.setAttribute("data-suggested", code);
      for (const c of co) {
        const input = coBoxes.map((b) => b.querySelector("input") as HTMLInputElement).find((i) => i.value === c);
        if (input) input.checked = true;
      }
    } else {
      replace(hint, "该分类没有建议的承办部门，请人工选择");
    }
    syncCo();
  };
  if (ctx.suggestion instanceof Promise) ctx.suggestion.then(apply, () => replace(hint, "未能读取建议的承办部门，请人工选择"));
  else apply(ctx.suggestion ?? { department: null, co: [] });
  return actionForm(
    p,
    "dispatch",
    "派单",
    [
      field("承办部门", lead),
      hint,
      more("协办单位（可选，最多5个）", h("div", { class: "checks" }, coBoxes)),
      field("派单备注（可选）", h("input", { name: "note", maxlength: 1000, placeholder: "给承办部门的说明" })),
    ],
    (d) => {
      const department = text(d, "department");
      if (!department) return "请选择承办部门";
      const co = d.getAll("co_departments").map(String);
      if (co.length > 5) return "协办单位最多5个";
      const body: Body = { department };
      if (co.length) body.co_departments = co;
      if (text(d, "note")) body.note = text(d, "note");
      return body;
    },
    ctx,
  );
}

function mergeForm(p: Petition, ctx: ActionCtx): HTMLElement {
  const listId = `peers-${p.id}`;
  const peers = (ctx.peers ?? []).filter((x) => x.id !== p.id);
  return more(
    "并单（重复诉求并入主诉求）",
    actionForm(
      p,
      "merge",
      "并单",
      [
        field(
          "主诉求编号",
          h("input", { name: "into", list: listId, required: true, maxlength: 32, placeholder: "如 261120ABCDEF", autocomplete: "off" }),
          "本件将并入主诉求并停止计时，主诉求办结时一并答复群众",
        ),
        h("datalist", { id: listId }, peers.map((x) => option(x.id, `${x.id} ${x.title || x.content.slice(0, 20)}`))),
        field("备注（可选）", h("input", { name: "note", maxlength: 1000 })),
      ],
      (d) => {
        const into = text(d, "into").toUpperCase();
        if (!into) return "请填写主诉求编号";
        if (into === p.id) return "不能并入本件自身";
        return text(d, "note") ? { into, note: text(d, "note") } : { into };
      },
      ctx,
      "secondary",
    ),
  );
}

function transferForm(p: Petition, ctx: ActionCtx): HTMLElement {
  return more(
    "改派（移交其他部门）",
    actionForm(
      p,
      "transfer",
      "改派",
      [field("改派至", departmentSelect(p, "department", p.department)), field("改派理由", textarea("reason", "请说明改派理由", true, 2))],
      (d) => (!text(d, "department") ? "请选择部门" : !text(d, "reason") ? "请填写改派理由" : { department: text(d, "department"), reason: text(d, "reason") }),
      ctx,
      "secondary",
    ),
  );
}

// --- handler -----------------------------------------------------------------------------------------

function acceptForm(p: Petition, ctx: ActionCtx): HTMLFormElement {
  return actionForm(p, "accept", "签收", [], () => ({}), ctx);
}

function returnForm(p: Petition, ctx: ActionCtx): HTMLElement {
  return more(
    "退单",
    actionForm(
      p,
      "return",
      "退单",
      [
        field(
          "退单理由",
          h("select", { name: "reason", required: true }, option("", "请选择"), Object.entries(RETURN_REASON).map(([v, l]) => option(v, l))),
        ),
        field("说明", textarea("note", "请说明退单原因，便于重新分拨", false, 2)),
      ],
      (d) => {
        if (!text(d, "reason")) return "请选择退单理由";
        return text(d, "note") ? { reason: text(d, "reason"), note: text(d, "note") } : { reason: text(d, "reason") };
      },
      ctx,
      "danger",
    ),
  );
}

function resolveForm(p: Petition, ctx: ActionCtx): HTMLFormElement {
  return actionForm(
    p,
    "resolve",
    "办结",
    [field("办结答复（将短信告知群众）", textarea("reply", "请填写办理结果和答复内容", true))],
    (d) => (text(d, "reply").length < 2 ? "请填写办结答复（至少2个字）" : { reply: text(d, "reply") }),
    ctx,
  );
}

// --- front desk (首接首办) ------------------------------------------------------------------------------

/** The reply a desk gives on the spot (即办): 2–2000 characters, as the API counts them. */
export function answerReply(reply: string): string | null {
  const n = visibleLength(reply);
  if (n < 2) return "请填写当场答复内容（至少2个字）";
  if (n > 2000) return "当场答复内容不能超过2000字";
  return null;
}

function answerForm(p: Petition, ctx: ActionCtx): HTMLFormElement {
  return actionForm(
    p,
    "answer",
    "当场答复",
    [field("当场答复（即办，将短信告知群众；经审核后结案）", textarea("reply", "请填写当场答复群众的内容和依据", true))],
    (d) => answerReply(text(d, "reply")) ?? { reply: text(d, "reply") },
    ctx,
  );
}

function extensionForm(p: Petition, ctx: ActionCtx): HTMLElement {
  return more(
    "申请延期",
    actionForm(
      p,
      "extension",
      "申请延期",
      [
        field("延期工作日", h("input", { name: "working_days", type: "number", min: 1, max: 30, value: 3, required: true })),
        field("延期理由", textarea("reason", "请说明需要延期的原因", true, 2)),
      ],
      (d) => {
        const days = Number(text(d, "working_days"));
        if (!Number.isInteger(days) || days < 1 || days > 30) return "延期工作日应为1至30的整数";
        if (!text(d, "reason")) return "请填写延期理由";
        return { working_days: days, reason: text(d, "reason") };
      },
      ctx,
      "secondary",
    ),
  );
}

function supervisorsOf(district: string): string[] {
  return district === CITY ? [`supervisor@${CITY}`] : [`supervisor@${district}`, `supervisor@${CITY}`];
}

function suspendForm(p: Petition, ctx: ActionCtx, needsConsent: boolean): HTMLElement {
  const controls: Child[] = [field("挂起理由", textarea("reason", "如：等待群众补充材料、涉及司法程序", true, 2))];
  if (needsConsent) {
    controls.push(
      field(
        "同意挂起的督办员",
        h("select", { name: "consented_by", required: true }, supervisorsOf(p.district).map((u) => option(u, u))),
        "承办人挂起须经督办员同意",
      ),
    );
  }
  return more(
    "挂起（暂停计时）",
    actionForm(
      p,
      "suspend",
      "挂起",
      controls,
      (d) => {
        if (!text(d, "reason")) return "请填写挂起理由";
        const body: Body = { reason: text(d, "reason") };
        if (needsConsent) body.consented_by = text(d, "consented_by");
        return body;
      },
      ctx,
      "secondary",
    ),
  );
}

function resumeForm(p: Petition, ctx: ActionCtx): HTMLFormElement {
  return actionForm(p, "resume", "恢复办理", [], () => ({}), ctx);
}

// --- reviewer, supervisor, chief ---------------------------------------------------------------------

function reviewForms(p: Petition, ctx: ActionCtx): Child[] {
  return [
    actionForm(
      p,
      "review",
      "审核通过并结案",
      [field("审核意见（可选）", h("input", { name: "note", maxlength: 1000 }))],
      (d) => (text(d, "note") ? { approve: true, note: text(d, "note") } : { approve: true }),
      ctx,
    ),
    more(
      "退回重办",
      h("div", { "data-review": "reject" }, actionForm(
        p,
        "review",
        "退回重办",
        [field("退回理由", textarea("note", "请说明退回原因", true, 2))],
        (d) => (text(d, "note") ? { approve: false, note: text(d, "note") } : "请填写退回理由"),
        ctx,
        "danger",
      )),
    ),
  ];
}

function decisionForms(p: Petition, ctx: ActionCtx): HTMLElement {
  const req = p.extension_pending!;
  return h(
    "div",
    { class: "decision" },
    h("p", null, `延期申请：${req.working_days}个工作日，理由：${req.reason}（${req.by}）`),
    actionForm(p, "extension/decision", "批准延期", [], () => ({ approve: true }), ctx),
    actionForm(p, "extension/decision", "不批准", [], () => ({ approve: false }), ctx, "secondary"),
  );
}

function escalateForm(p: Petition, ctx: ActionCtx): HTMLElement {
  return more(
    "提请首席办事员（升级）",
    actionForm(
      p,
      "escalate",
      "升级",
      [field("说明（可选）", textarea("note", "请说明需要首席办事员协调的事项", false, 2))],
      (d) => (text(d, "note") ? { note: text(d, "note") } : {}),
      ctx,
      "danger",
    ),
  );
}

export function instructionForm(p: Petition, ctx: ActionCtx): HTMLFormElement {
  return actionForm(
    p,
    "instruction",
    "批示",
    [field("首席办事员批示", textarea("note", "批示内容将记入诉求办理时间线", true, 2))],
    (d) => (text(d, "note") ? { note: text(d, "note") } : "请填写批示内容"),
    ctx,
  );
}

/** 分流交办 (§11): to the dispatcher, or to the center's mediation, legal aid or litigation guidance. */
function triageForm(p: Petition, ctx: ActionCtx): HTMLElement {
  const routes: Record<string, string> = { dispatch: "分拨派单", mediation: "调解", legal_aid: "法律援助", litigation: "诉讼引导" };
  return more(
    "分流交办",
    actionForm(
      p,
      "triage",
      "分流",
      [
        field("去向", h("select", { name: "route", required: true }, option("", "请选择"), Object.entries(routes).map(([v, l]) => option(v, l)))),
        field("说明（可选）", textarea("note", "分流说明", false, 2)),
      ],
      (d) => {
        if (!text(d, "route")) return "请选择分流去向";
        return text(d, "note") ? { route: text(d, "route"), note: text(d, "note") } : { route: text(d, "route") };
      },
      ctx,
    ),
  );
}

/** 疑难/重点 (§12): a chief handler flags a key case onto their board, or takes it off. */
function flagForm(p: Petition, ctx: ActionCtx): HTMLElement {
  const on = !p.key_case;
  return more(
    on ? "标注疑难/重点" : "取消重点标注",
    actionForm(
      p,
      "flag",
      on ? "标注重点" : "取消标注",
      on ? [field("说明（可选）", textarea("note", "为何列为疑难/重点", false, 2))] : [],
      (d) => (text(d, "note") ? { key_case: on, note: text(d, "note") } : { key_case: on }),
      ctx,
      on ? "danger" : "secondary",
    ),
  );
}

/** 催办单/督办单 (§12): a supervisor urges the holder by hand. */
function urgeForm(p: Petition, ctx: ActionCtx): HTMLElement {
  return more(
    "催办/督办",
    actionForm(
      p,
      "urge",
      "发送",
      [
        field("类型", h("select", { name: "kind", required: true }, option("reminder", "催办单"), option("supervision", "督办单"))),
        field("督办意见", textarea("note", "发给承办单位的催办/督办意见", true, 2)),
      ],
      (d) => (text(d, "note") ? { kind: text(d, "kind") || "reminder", note: text(d, "note") } : "请填写督办意见"),
      ctx,
    ),
  );
}

/** 基层吹哨 (§10): the grid worker or the dispatcher posts it to the district's claim pool. */
function whistleForm(p: Petition, ctx: ActionCtx): HTMLElement {
  return more(
    "吹哨",
    actionForm(
      p,
      "whistle",
      "吹哨",
      [field("吹哨说明（各部门报到认领）", textarea("note", "网格内解决不了的原因、需要哪些部门", true, 2))],
      (d) => (text(d, "note") ? { note: text(d, "note") } : "请填写吹哨说明"),
      ctx,
    ),
  );
}

/** 部门报到 (§10): a handler of the district claims it for their department; the first claim wins. */
function claimForm(p: Petition, ctx: ActionCtx): HTMLFormElement {
  const left = p.stage?.due_at ? h("span", { class: "countdown", "data-due": p.stage.due_at }) : null;
  return actionForm(p, "claim", "报到认领", left ? [h("p", { class: "note" }, "距兜底截止：", left)] : [], () => ({}), ctx);
}

type Form = (p: Petition, ctx: ActionCtx, s: Session) => Child;

/** Each action's form(s), in the order they are offered; `when` adds what the table cannot say. */
const FORMS: [action: string, form: Form, when?: (p: Petition) => boolean][] = [
  ["dispatch", dispatchForm],
  ["merge", mergeForm],
  ["transfer", transferForm],
  ["accept", acceptForm],
  ["return", returnForm],
  ["resolve", resolveForm],
  ["answer", answerForm],
  ["extension", extensionForm, (p) => !p.extension_pending],
  ["extension/decision", decisionForms, (p) => Boolean(p.extension_pending)],
  ["suspend", (p, ctx, s) => suspendForm(p, ctx, s.role === "handler")],
  ["resume", resumeForm],
  ["review", reviewForms],
  ["escalate", escalateForm, (p) => p.escalation_level !== "city"],
  ["instruction", instructionForm],
  ["flag", flagForm],
  ["urge", urgeForm],
  ["triage", triageForm],
  ["whistle", whistleForm],
  ["claim", claimForm],
];

/** Whether this user may take this action on this petition now: role and state from the table, then scope. */
export function may(action: string, p: Petition, s: Session): boolean {
  const rule = (RULES as Record<string, { from: string[]; roles: string[] }>)[action];
  if (!rule || !rule.roles.includes(s.role) || !rule.from.includes(p.status)) return false;
  // A handler acts on their own department's orders only (co-departments assist), a desk on what its
  // unit received (首问); others within their district.
  // 部门报到: a posted petition is open to every handler of its district until one claims it.
  if (s.role === "handler" && action === "claim") return p.district === s.district;
  if (s.role === "handler") return p.department === s.department;
  if (s.role === "grid_worker") return true; // the API keeps a grid worker to their grids (it showed them this one)
  if (s.role === "desk") return Boolean(s.department) && p.first_inquiry?.unit === s.department;
  return covers(s.district, p.district);
}

/** The panel of actions for this user on this petition, or null when there are none. */
export function actionsFor(p: Petition, s: Session, ctx: ActionCtx): HTMLElement | null {
  const items: Child[] = FORMS.filter(([action, , when]) => may(action, p, s) && (!when || when(p))).map(([, form]) => form(p, ctx, s));
  if (!items.length && s.role === "handler" && s.department && p.co_departments.includes(s.department)) {
    items.push(h("p", { class: "note" }, "本部门为协办单位，请配合主办部门办理"));
  }
  if (!items.length) return null;
  return h("div", { class: "actions" }, items);
}

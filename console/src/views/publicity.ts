// 典型案例 (typical cases) and 发一封短信 (publicity broadcasts): CONTRACT §13.
// Operators list the cases of their districts (GET /v1/cases/typical: the petition's number, published
// or withdrawn) and withdraw one in place; the detail view of a closed petition offers 列为典型案例.

import { ApiError, describe, get, post, type Session } from "../api";
import { field, h, option, replace, section } from "../dom";
import { CITY, categoryName, districtName, districtsIn } from "../directory";
import { when } from "../format";
import { empty, into, postButton, toast } from "../ui";
import type { View } from "../main";
import type { Petition } from "../petition";
import { refreshButton, toolbar } from "./common";

interface TypicalCase {
  petition: string;
  status: "typical" | "withdrawn";
  title: string;
  summary: string;
  district: string;
  category?: string | null;
  what_was_done: string;
  working_days_to_close: number;
  closed_on: string;
  marked_at: string;
}

interface Estimate {
  text: string;
  segments: number;
  recipients: number;
  segment_price_cny: number;
  cost_cny: number;
  per_minute: number;
  minutes_at_throttle: number | null;
}

interface Broadcast {
  id: string;
  status: "queued" | "running" | "deferred" | "done";
  message: string;
  district: string | null;
  created_at: string;
  segments: number;
  recipients: number;
  sent: number;
  failed: number;
  opted_out: number;
  unconfirmed: number;
  remaining: number;
  cost_cny: number;
  estimated_cost_cny: number;
  deferred_until: string | null;
  finished_at: string | null;
}

/** The form fields' Chinese names, for an API error that names one. */
const FIELD: Record<string, string> = {
  petition: "受理编号",
  title: "标题",
  summary: "案例摘要",
  message: "短信内容",
  district: "区县",
  id: "受理编号",
};

const BROADCAST_STATUS: Record<string, string> = { queued: "排队中", running: "发送中", deferred: "静默时段暂缓", done: "已完成" };

export const CASE_MARKERS = ["supervisor", "admin"];

/** An API error next to the form, naming the field in Chinese; the named control is marked invalid. */
function showError(box: HTMLElement, form: HTMLElement, err: unknown): void {
  const name = err instanceof ApiError ? err.field : undefined;
  for (const el of form.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
  const control = name ? form.querySelector(`[name="${name}"]`) : null;
  control?.setAttribute("aria-invalid", "true");
  replace(box, name && FIELD[name] ? `${FIELD[name]}：${describe(err)}` : describe(err));
  if (name) box.setAttribute("data-error-field", name);
  else box.removeAttribute("data-error-field");
  box.hidden = false;
}

function clearError(box: HTMLElement, form: HTMLElement): void {
  for (const el of form.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
  replace(box);
  box.removeAttribute("data-error-field");
  box.hidden = true;
}

function errorLine(): HTMLElement {
  return h("p", { class: "form-error", role: "alert", "data-form-error": "1", hidden: true });
}

const yuan = (x: number) => `${Number(x.toFixed(4))} 元`;

// --- 典型案例 -------------------------------------------------------------------------------------

/** For a supervisor or admin on a closed petition: 列为典型案例 (published anonymised). */
export function typicalCaseForm(p: Petition, s: Session): HTMLElement | null {
  if (p.status !== "closed" || !CASE_MARKERS.includes(s.role)) return null;
  const title = h("input", { type: "text", name: "title", maxlength: "60", required: true, placeholder: "如：老旧小区路灯三日修复" });
  const summary = h("textarea", { name: "summary", rows: 3, maxlength: "1000", required: true, placeholder: "案例摘要（5至1000字，发布前自动去除姓名、电话、门牌号）" });
  const err = errorLine();
  const submit = h("button", { type: "submit", "data-mark-typical": p.id }, "列为典型案例");
  const form = h("form", { class: "action", "data-typical-form": p.id, novalidate: true }, field("标题", title), field("案例摘要", summary), h("div", { class: "form-foot" }, submit), err);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clearError(err, form);
    submit.disabled = true;
    form.classList.add("busy");
    try {
      await post("/v1/cases/typical", { petition: p.id, title: title.value.trim(), summary: summary.value.trim() });
      toast("已列为典型案例，已脱敏公开发布");
      title.value = "";
      summary.value = "";
    } catch (e) {
      showError(err, form, e);
    } finally {
      submit.disabled = false;
      form.classList.remove("busy");
    }
  });
  return section("列为典型案例", h("p", { class: "muted small" }, "公开发布的案例不含姓名、电话、身份证号和门牌号；可在“典型案例”中撤回。"), form);
}

function caseCard(c: TypicalCase, s: Session, done: () => void): HTMLElement {
  const withdraw =
    c.status === "typical" && CASE_MARKERS.includes(s.role)
      ? postButton("撤回", { class: "secondary", "data-unmark": c.petition }, `/v1/cases/typical/${encodeURIComponent(c.petition)}/unmark`, `已撤回典型案例 ${c.petition}`, done)
      : null;
  return h(
    "article",
    { class: "card typical-case", "data-case": c.petition, "data-case-status": c.status },
    h(
      "header",
      { class: "card-head" },
      h("a", { class: "pid", href: `#/p/${c.petition}` }, c.petition),
      h("span", { class: `badge ${c.status === "typical" ? "ok" : "muted"}` }, c.status === "typical" ? "公开中" : "已撤回"),
      withdraw,
    ),
    h("h3", { class: "title" }, c.title),
    h(
      "p",
      { class: "muted small" },
      [districtName(c.district), c.category ? categoryName(c.category) : null, `${c.closed_on} 办结`, `用时 ${c.working_days_to_close} 个工作日`, `${when(c.marked_at)} 发布`]
        .filter(Boolean)
        .join(" · "),
    ),
    h("p", { class: "content" }, c.summary),
    c.what_was_done ? h("p", { class: "reply" }, `办理结果：${c.what_was_done}`) : null,
  );
}

export const casesView: View = async (el, s) => {
  const list = h("div");
  const load = () =>
    into(list, async () => {
      const { items } = await get<{ items: TypicalCase[] }>("/v1/cases/typical");
      if (!items.length) return empty("暂无典型案例：督办员或管理员可在已办结诉求的详情页中列为典型案例");
      return h("div", { class: "cases", "data-cases": String(items.filter((c) => c.status === "typical").length) }, items.map((c) => caseCard(c, s, () => void load())));
    });
  replace(
    el,
    toolbar("典型案例", refreshButton(() => void load())),
    h("p", { class: "muted small" }, "本辖区的典型案例，最新在前；公开中的案例已脱敏发布（公众版不含受理编号、姓名和电话）。"),
    list,
  );
  await load();
};

// --- 发一封短信 ------------------------------------------------------------------------------------

function estimateBox(e: Estimate): HTMLElement {
  const minutes = e.minutes_at_throttle;
  const rows: [string, string, string][] = [
    ["recipients", "接收人数", `${e.recipients} 人`],
    ["segments", "条数/人", `${e.segments} 条`],
    ["cost", "预计费用", yuan(e.cost_cny)],
    ["minutes", "预计用时", minutes === null ? "—" : `约 ${minutes} 分钟（每分钟至多 ${e.per_minute} 条）`],
  ];
  return h(
    "div",
    { class: "estimate", "data-estimate": "1" },
    h("dl", { class: "meta" }, rows.map(([key, label, value]) => h("div", null, h("dt", null, `${label}：`), h("dd", { "data-estimate-value": key }, value)))),
    h("p", { class: "muted small" }, `实际发出：${e.text}`),
  );
}

function broadcastTable(items: Broadcast[]): HTMLElement {
  const heads = ["创建时间", "范围", "内容", "状态", "接收人数", "已发送", "失败", "退订", "待发送", "费用（元）"];
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      { class: "table", "data-broadcasts": "1" },
      h("thead", null, h("tr", null, heads.map((t) => h("th", null, t)))),
      h(
        "tbody",
        null,
        items.map((b) => {
          const status = BROADCAST_STATUS[b.status] ?? b.status;
          const note = b.status === "deferred" && b.deferred_until ? `（${when(b.deferred_until)} 起）` : b.unconfirmed ? `（未确认 ${b.unconfirmed}）` : "";
          return h(
            "tr",
            { "data-broadcast": b.id, "data-status": b.status },
            h("td", null, when(b.created_at)),
            h("td", null, b.district ? districtName(b.district) : "全市"),
            h("td", { class: "content" }, b.message),
            h("td", null, status + note),
            h("td", { "data-count": "recipients" }, String(b.recipients)),
            h("td", { "data-count": "sent" }, String(b.sent)),
            h("td", { "data-count": "failed" }, String(b.failed)),
            h("td", { "data-count": "opted_out" }, String(b.opted_out)),
            h("td", { "data-count": "remaining" }, String(b.remaining)),
            h("td", { "data-count": "cost" }, String(b.cost_cny)),
          );
        }),
      ),
    ),
  );
}

export const broadcastsView: View = async (el, s) => {
  const list = h("div");
  const load = () =>
    into(list, async () => {
      const { items } = await get<{ items: Broadcast[] }>("/v1/broadcasts");
      if (!items.length) return empty("暂无群发短信");
      return broadcastTable(items);
    });

  const message = h("textarea", { name: "message", rows: 4, maxlength: "300", required: true, placeholder: "短信内容（2至300字；发出时自动加上前缀和“回复TD退订”）" });
  const counter = h("small", { class: "counter", "data-char-count": "0" }, "已输入 0 字");
  const district = h(
    "select",
    { name: "district", "aria-label": "区县" },
    option("", "全市（所有使用过平台的号码）", true),
    districtsIn(s.district === CITY ? CITY : s.district).map((d) => option(d.code, d.name)),
  );
  const err = errorLine();
  const result = h("div", { class: "estimate-holder" });
  const estimateButton = h("button", { type: "button", class: "secondary", "data-estimate-button": "1" }, "估算");
  const sendButton = h("button", { type: "button", "data-send": "1", disabled: true }, "发送");
  const form = h(
    "form",
    { class: "action", "data-broadcast-form": "1", novalidate: true },
    field("短信内容", message),
    counter,
    field("区县（可选）", district),
    h("div", { class: "form-foot" }, estimateButton, sendButton),
    err,
    result,
  );
  let estimated: { message: string; district: string; estimate: Estimate } | null = null;
  const body = () => ({ message: message.value.trim(), ...(district.value ? { district: district.value } : {}) });
  // What was estimated is what is sent: any change asks for a new estimate.
  const invalidate = () => {
    estimated = null;
    sendButton.disabled = true;
    replace(result);
  };
  message.addEventListener("input", () => {
    const n = [...message.value].length;
    counter.textContent = `已输入 ${n} 字`;
    counter.setAttribute("data-char-count", String(n));
    counter.classList.toggle("over", n > 300);
    invalidate();
  });
  district.addEventListener("change", invalidate);
  estimateButton.addEventListener("click", async () => {
    clearError(err, form);
    invalidate();
    estimateButton.disabled = true;
    try {
      const b = body();
      const e = await post<Estimate>("/v1/broadcasts/estimate", b);
      estimated = { message: b.message, district: district.value, estimate: e };
      replace(result, estimateBox(e));
      sendButton.disabled = e.recipients === 0;
      if (e.recipients === 0) result.appendChild(h("p", { class: "note warn" }, "该范围内暂无可接收的号码"));
    } catch (e) {
      showError(err, form, e);
    } finally {
      estimateButton.disabled = false;
    }
  });
  sendButton.addEventListener("click", () => {
    if (!estimated) return;
    const e = estimated.estimate;
    const scope = estimated.district ? districtName(estimated.district) : "全市";
    const confirmBox = h(
      "div",
      { class: "note warn confirm", "data-confirm": "1", role: "alertdialog", "aria-label": "确认发送" },
      h("p", null, `确认向${scope} ${e.recipients} 人发送？每人 ${e.segments} 条，预计费用 ${yuan(e.cost_cny)}。发出后无法撤回。`),
      h(
        "div",
        { class: "form-foot" },
        h(
          "button",
          {
            type: "button",
            "data-confirm-send": "1",
            onclick: async (ev: Event) => {
              const button = ev.currentTarget as HTMLButtonElement;
              button.disabled = true;
              clearError(err, form);
              try {
                const b = await post<Broadcast>("/v1/broadcasts", { message: estimated?.message, ...(estimated?.district ? { district: estimated.district } : {}) });
                toast(`已提交群发短信 ${b.id}：${b.recipients} 人`);
                message.value = "";
                message.dispatchEvent(new Event("input"));
                await load();
              } catch (e2) {
                confirmBox.remove();
                showError(err, form, e2);
              }
            },
          },
          "确认发送",
        ),
        h("button", { type: "button", class: "secondary", "data-cancel-send": "1", onclick: () => confirmBox.remove() }, "取消"),
      ),
    );
    result.querySelector("[data-confirm]")?.remove();
    result.appendChild(confirmBox);
  });

  replace(
    el,
    toolbar("发一封短信", refreshButton(() => void load())),
    section("新短信", h("p", { class: "muted small" }, "发给使用过本平台且未回复TD退订的号码；按节流分批发送，静默时段（夜间）暂缓。"), form),
    section("已发短信", list),
  );
  await load();
};

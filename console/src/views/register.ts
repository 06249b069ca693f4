// 登记诉求 (首接首办): a service-center window or a 12345 agent registers what a citizen brought,
// POST /v1/desk/petitions (CONTRACT §9); the unit and the clerk become its first-inquiry party.
// With 当场答复 ticked the page then answers it on the spot (POST …/answer: received → resolved).

import { ApiError, call, describe, post, type Session } from "../api";
import { answerReply } from "../actions";
import { h, option, replace, type Child } from "../dom";
import { CITY, dir, districtName, departmentName, districtsIn } from "../directory";
import { visibleLength } from "../format";
import { CHANNEL, label } from "../labels";
import { slaLine, statusBadge, type Petition } from "../petition";
import { toast } from "../ui";
import type { View } from "../main";
import { toolbar } from "./common";

const MIN = 5;
const MAX = 4000;

/** The district of the desk's unit: the city's desks register for every district, the others for their own. */
export function unitDistrict(s: Session): string {
  return dir.departments.find((d) => d.code === s.department)?.district ?? s.district;
}

export function deskChannel(s: Session): string {
  return (s.department ?? "").endsWith(".hotline") ? "hotline_12345" : "walkin";
}

function newKey(): string {
  const c = globalThis.crypto;
  if (typeof c?.randomUUID === "function") return c.randomUUID();
  const bytes = new Uint8Array(16);
  c.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function categorySelect(): HTMLSelectElement {
  const all = [...dir.categories.values()];
  const tops = all.filter((c) => !c.parent);
  return h(
    "select",
    { name: "category", id: "reg-category" },
    option("", "未分类（由分拨员判断）"),
    tops.map((top) =>
      h(
        "optgroup",
        { label: top.name },
        all.filter((c) => c.parent === top.code).map((c) => option(c.code, c.name)),
        option(top.code, `其他${top.name}问题`),
      ),
    ),
    all.filter((c) => c.parent && !tops.some((t) => t.code === c.parent)).map((c) => option(c.code, c.name)),
  );
}

/** A form row whose API errors (`error.field`) show under the control. */
interface Row {
  el: HTMLElement;
  error: HTMLElement;
}

function row(label: string, control: HTMLElement, hint?: Child): Row {
  const error = h("small", { class: "field-error", role: "alert", hidden: true });
  const el = h("label", { class: "field" }, h("span", { class: "field-label" }, label), control, hint ?? null, error);
  return { el, error };
}

const PHONE_CHARS = /^\+?[0-9][0-9 -]*$/;

export const registerView: View = async (el, s) => {
  const covered = districtsIn(unitDistrict(s));
  const channel = deskChannel(s);
  let key = newKey();

  // --- the controls ---------------------------------------------------------------------------
  const district = h(
    "select",
    { name: "district", id: "reg-district", required: true },
    covered.length > 1 ? option("", "请选择区县") : null,
    covered.map((d) => option(d.code, d.code === CITY ? `${d.name}（市本级）` : d.name, covered.length === 1)),
  );
  const category = categorySelect();
  const title = h("input", { name: "title", id: "reg-title", maxlength: 100, placeholder: "如：小区路灯不亮", autocomplete: "off" });
  const content = h("textarea", {
    name: "content",
    id: "reg-content",
    rows: 6,
    required: true,
    maxlength: MAX * 2,
    placeholder: "请记录群众反映的事项：发生了什么、在哪里、持续多久、希望怎样解决。",
  });
  const counter = h("span", { class: "counter", "data-counter": "content" });
  const address = h("input", { name: "address", id: "reg-address", maxlength: 200, placeholder: "如：彰武县彰武镇东山社区3号楼", autocomplete: "off" });
  const urgent = h("input", { type: "checkbox", name: "urgent", id: "reg-urgent" });
  const name = h("input", { name: "name", id: "reg-name", maxlength: 50, autocomplete: "off" });
  const phone = h("input", { type: "tel", name: "phone", id: "reg-phone", maxlength: 20, inputmode: "numeric", autocomplete: "off", placeholder: "11位手机号码" });
  const anonymous = h("input", { type: "checkbox", name: "anonymous", id: "reg-anonymous" });
  const answer = h("input", { type: "checkbox", name: "answer", id: "reg-answer" });
  const reply = h("textarea", {
    name: "reply",
    id: "reg-reply",
    rows: 4,
    maxlength: 2000,
    placeholder: "请填写当场答复群众的内容和依据，如政策解答、办理指引。",
  });
  const replyCounter = h("span", { class: "counter", "data-counter": "reply" });

  const rows: Record<string, Row> = {
    district: row("区县", district, covered.length > 1 ? h("small", null, "本单位可为全市各区县登记") : null),
    category: row("问题类别", category),
    title: row("标题（选填）", title),
    content: row("诉求内容", content, counter),
    "location.address": row("问题地址（选填）", address),
    "citizen.name": row("群众姓名（选填）", name),
    "citizen.phone": row("联系电话", phone, h("small", null, "用于发送受理回执和办理结果短信；匿名时可不填")),
    reply: row("答复内容", reply, replyCounter),
  };
  const replyBox = h("div", { class: "reply-box", hidden: true }, rows.reply.el);
  const error = h("p", { class: "form-error", role: "alert", hidden: true });
  const submit = h("button", { type: "submit", class: "primary", "data-submit": "register" }, "登记");
  const clearButton = h("button", { type: "button", class: "secondary" }, "清空");
  const result = h("div", { class: "register-result", "aria-live": "polite" });

  const form = h(
    "form",
    { class: "register", id: "register", novalidate: true, "aria-label": "登记诉求" },
    h(
      "section",
      { class: "panel" },
      h("h2", null, "诉求信息"),
      h("div", { class: "pair" }, rows.district.el, rows.category.el),
      rows.title.el,
      rows.content.el,
      rows["location.address"].el,
      h("label", { class: "check" }, urgent, "紧急（涉及人身财产安全等，需优先办理）"),
    ),
    h(
      "div",
      { class: "register-side" },
      h(
        "section",
        { class: "panel" },
        h("h2", null, "群众信息"),
        rows["citizen.name"].el,
        rows["citizen.phone"].el,
        h("label", { class: "check" }, anonymous, "群众要求匿名（不记录姓名）"),
      ),
      h(
        "section",
        { class: "panel on-spot" },
        h("h2", null, "当场答复（即办）"),
        h("label", { class: "check" }, answer, "当场答复"),
        h("p", { class: "muted small" }, "能当场解答或办理的，登记后直接答复群众，不再分拨；经审核后结案并短信回访。"),
        replyBox,
      ),
      h("div", { class: "form-foot" }, submit, clearButton),
      error,
    ),
  );

  // --- live feedback --------------------------------------------------------------------------
  const count = () => {
    const n = visibleLength(content.value);
    counter.textContent = `已输入 ${n} 字（${MIN}–${MAX} 字）`;
    counter.classList.toggle("over", n > MAX || (n > 0 && n < MIN));
    const r = visibleLength(reply.value);
    replyCounter.textContent = `已输入 ${r} 字（2–2000 字）`;
    replyCounter.classList.toggle("over", r > 2000 || (r > 0 && r < 2));
  };
  const sync = () => {
    replyBox.hidden = !answer.checked;
    reply.required = answer.checked;
    submit.textContent = answer.checked ? "登记并当场答复" : "登记";
    name.disabled = anonymous.checked;
    if (anonymous.checked) name.value = "";
    phone.required = !anonymous.checked;
  };
  const clearErrors = () => {
    for (const r of Object.values(rows)) {
      r.error.hidden = true;
      r.el.querySelector("input, select, textarea")?.removeAttribute("aria-invalid");
    }
    error.hidden = true;
  };
  const fail = (text: string, at?: string) => {
    const r = at ? rows[at] : undefined;
    if (r) {
      replace(r.error, text);
      r.error.hidden = false;
      r.el.querySelector("input, select, textarea")?.setAttribute("aria-invalid", "true");
    }
    replace(error, text);
    error.hidden = false;
  };
  form.addEventListener("input", count);
  answer.addEventListener("change", sync);
  anonymous.addEventListener("change", sync);
  clearButton.addEventListener("click", () => {
    reset(false);
    replace(result);
  });
  const reset = (keepDistrict: boolean) => {
    const d = district.value;
    form.reset();
    if (keepDistrict) district.value = d;
    key = newKey(); // the next citizen's petition is a new one
    clearErrors();
    sync();
    count();
  };
  sync();
  count();

  // --- the body, checked here first (the API checks it again) ---------------------------------
  const body = (): Record<string, unknown> | [string, string] => {
    if (!district.value) return ["请选择区县", "district"];
    const n = visibleLength(content.value);
    if (n < MIN) return [`诉求内容至少${MIN}个字`, "content"];
    if (n > MAX) return [`诉求内容不能超过${MAX}字`, "content"];
    const tel = phone.value.trim();
    if (!anonymous.checked && !tel) return ["请填写联系电话（群众要求匿名的，请勾选匿名）", "citizen.phone"];
    if (tel && (!PHONE_CHARS.test(tel) || tel.replace(/\D/g, "").length < 11)) return ["请填写11位手机号码", "citizen.phone"];
    if (answer.checked) {
      const bad = answerReply(reply.value);
      if (bad) return [bad, "reply"];
    }
    const out: Record<string, unknown> = { district: district.value, content: content.value.trim() };
    if (title.value.trim()) out.title = title.value.trim();
    if (category.value) out.category = category.value;
    if (urgent.checked) out.priority = "urgent";
    const citizen: Record<string, string> = {};
    if (!anonymous.checked && name.value.trim()) citizen.name = name.value.trim();
    if (tel) citizen.phone = tel;
    if (Object.keys(citizen).length) out.citizen = citizen;
    if (anonymous.checked) out.anonymous = true;
    if (address.value.trim()) out.location = { address: address.value.trim() };
    return out;
  };

  const done = (p: Petition, answerError?: unknown) => {
    replace(
      result,
      h(
        "section",
        { class: `panel result${answerError ? " partial" : ""}`, "data-registered": p.id, "data-status": p.status },
        h("h2", null, answerError ? "诉求已登记，当场答复未成功" : p.status === "resolved" ? "已登记并当场答复" : "登记成功"),
        h(
          "p",
          { class: "result-id" },
          "诉求编号 ",
          h("a", { class: "pid", href: `#/p/${p.id}` }, p.id),
          " ",
          statusBadge(p),
        ),
        h("p", { class: "muted" }, "请将诉求编号告知群众：凭编号和手机号后四位可查询办理进度；受理回执将以短信发送。"),
        answerError ? h("p", { class: "form-error" }, `${describe(answerError)}。可在诉求详情中重新当场答复。`) : null,
        p.status === "received" && !answerError ? slaLine(p) : null,
        h(
          "p",
          { class: "form-foot" },
          h("a", { class: "button secondary", href: `#/p/${p.id}` }, "查看详情"),
          h("a", { class: "button secondary", href: "#/mine" }, "我首问的诉求"),
        ),
      ),
    );
  };

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clearErrors();
    const b = body();
    if (Array.isArray(b)) {
      fail(b[0], b[1]);
      return;
    }
    const withAnswer = answer.checked;
    const replyText = reply.value.trim();
    submit.disabled = true;
    form.classList.add("busy");
    try {
      let p = await call<Petition>("POST", "/v1/desk/petitions", b, true, undefined, { "Idempotency-Key": key });
      let answerError: unknown;
      if (withAnswer) {
        try {
          p = await post<Petition>(`/v1/petitions/${encodeURIComponent(p.id)}/answer`, { reply: replyText });
        } catch (err) {
          answerError = err;
        }
      }
      done(p, answerError);
      if (answerError) toast(`诉求已登记（${p.id}），当场答复未成功`, "error");
      else toast(withAnswer ? `已登记并当场答复（${p.id}）` : `登记成功（${p.id}）`);
      reset(true);
    } catch (err) {
      const at = err instanceof ApiError && err.field ? err.field.replace(/^body\./, "") : undefined;
      fail(describe(err), at && rows[at] ? at : undefined);
      toast(describe(err), "error");
    } finally {
      submit.disabled = false;
      form.classList.remove("busy");
    }
  });

  const unit = departmentName(s.department);
  const scope = covered.length > 1 ? "全市各区县" : districtName(covered[0]?.code);
  replace(
    el,
    toolbar("登记诉求", h("span", { class: "muted", "data-channel": channel }, `${unit} · ${label(CHANNEL, channel)} · 受理范围：${scope}`)),
    h("p", { class: "muted" }, "首接首办：本单位为诉求的首问单位，您为首问人，办理全程跟踪至结案。"),
    result,
    form,
  );
};

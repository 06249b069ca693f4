// 我要反映: the form of one county entrance, then the SMS code, then POST /v1/citizen/petitions.

import { ApiError, currentSession, post } from "./api";
import { categories, districtName, type Category } from "./directory";
import { clearErrors, field, formError, h, replace, setError } from "./dom";
import { showAt, showError } from "./errors";
import { isMobile, normalPhone, visibleLength, when } from "./format";
import { STAGE, STATUS } from "./labels";
import type { Petition } from "./petition";
import { verifyPanel } from "./verify";

const MIN = 5;
const MAX = 4000;
const DRAFT_KEY = "fzt.m.draft";

interface Draft {
  district: string;
  category: string;
  content: string;
  address: string;
  lat: string;
  lon: string;
  phone: string;
}

function loadDraft(district: string): Draft | null {
  try {
    const d = JSON.parse(sessionStorage.getItem(DRAFT_KEY) ?? "null") as Draft | null;
    return d && d.district === district ? d : null;
  } catch {
    return null;
  }
}

function saveDraft(d: Draft | null): void {
  try {
    if (d) sessionStorage.setItem(DRAFT_KEY, JSON.stringify(d));
    else sessionStorage.removeItem(DRAFT_KEY);
  } catch {
    // storage refused: the draft lives as long as the page
  }
}

function categorySelect(all: Category[], chosen: string): HTMLSelectElement {
  const select = h("select", { name: "category" }, h("option", { value: "" }, "请选择（不确定可不选）"));
  const tops = all.filter((c) => !c.parent);
  for (const top of tops) {
    const group = h("optgroup", { label: top.name });
    for (const c of all.filter((x) => x.parent === top.code)) group.appendChild(h("option", { value: c.code }, c.name));
    group.appendChild(h("option", { value: top.code }, `其他${top.name}问题`));
    select.appendChild(group);
  }
  for (const c of all.filter((x) => x.parent && !tops.some((t) => t.code === x.parent))) {
    select.appendChild(h("option", { value: c.code }, c.name));
  }
  select.value = chosen;
  return select;
}

function coordinate(text: string): number | null {
  const t = text.trim();
  if (!/^-?\d{1,3}(\.\d+)?$/.test(t)) return null;
  return Number(t);
}

export async function reportView(root: HTMLElement, district: string, isCurrent: () => boolean): Promise<void> {
  const [name, cats] = await Promise.all([districtName(district), categories().catch(() => [] as Category[])]);
  if (!isCurrent()) return;
  const session = currentSession();
  const draft = loadDraft(district);

  const content = h("textarea", { name: "content", rows: 7, required: true, placeholder: "请写清楚发生了什么、在哪里、持续多久、希望怎样解决。" });
  content.value = draft?.content ?? "";
  const counter = h("span", { class: "counter" });
  const category = categorySelect(cats, draft?.category ?? "");
  const address = h("input", { type: "text", name: "address", maxlength: 200, autocomplete: "street-address", value: draft?.address ?? "" });
  const lat = h("input", { type: "text", name: "lat", inputmode: "decimal", value: draft?.lat ?? "" });
  const lon = h("input", { type: "text", name: "lon", inputmode: "decimal", value: draft?.lon ?? "" });
  const locate = h("button", { type: "button", class: "secondary", "data-locate": true }, "使用我的位置");
  const locateNote = h("p", { class: "note", "aria-live": "polite" });
  const phone = h("input", {
    type: "tel",
    name: "phone",
    inputmode: "numeric",
    autocomplete: "tel",
    maxlength: 20,
    required: true,
    value: draft?.phone ?? session?.phone ?? "",
  });
  const errorBox = formError();
  const next = h("button", { type: "submit", class: "primary" }, "下一步");

  const count = () => {
    const n = visibleLength(content.value);
    counter.textContent = `已输入 ${n} 字（${MIN}–${MAX} 字）`;
    counter.classList.toggle("over", n > MAX || (n > 0 && n < MIN));
  };
  count();

  const form = h(
    "form",
    { class: "card", novalidate: true, "aria-label": `${name}诉求登记` },
    field("category", "问题类别", category),
    field("content", "诉求内容", content, counter),
    h(
      "fieldset",
      { class: "group" },
      h("legend", null, "问题位置（选填）"),
      field("location.address", "详细地址", address, "如：海州区解放街道光明社区3号楼"),
      h("div", { class: "pair" }, field("location.lat", "纬度", lat), field("location.lon", "经度", lon)),
      h("div", { class: "row" }, locate),
      locateNote,
    ),
    field("phone", "手机号码", phone, "用于接收验证码和办理结果短信，不会公开"),
    errorBox,
    h("div", { class: "actions" }, next),
  );

  const current = (): Draft => ({
    district,
    category: category.value,
    content: content.value,
    address: address.value,
    lat: lat.value,
    lon: lon.value,
    phone: phone.value,
  });
  form.addEventListener("input", () => {
    count();
    saveDraft(current());
  });
  form.addEventListener("change", () => saveDraft(current()));

  locate.addEventListener("click", () => {
    if (!("geolocation" in navigator)) {
      locateNote.textContent = "此设备无法定位，请填写地址。";
      return;
    }
    locate.disabled = true;
    locateNote.textContent = "正在定位…";
    navigator.geolocation.getCurrentPosition(
      (pos) => {
        locate.disabled = false;
        lat.value = pos.coords.latitude.toFixed(6);
        lon.value = pos.coords.longitude.toFixed(6);
        locateNote.textContent = "已填入您当前的位置。";
        saveDraft(current());
      },
      (err) => {
        locate.disabled = false;
        locateNote.textContent =
          err.code === err.PERMISSION_DENIED ? "您未允许获取位置，请填写地址。" : "暂时无法获取位置，请填写地址。";
      },
      { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 },
    );
  });

  const section = h("section", { class: "report" });
  const title = h("h1", { tabindex: -1 }, `我要反映 · ${name}`);
  replace(root, title, h("p", { class: "lead" }, "请如实填写，我们会尽快为您分派承办部门。"), section);
  section.appendChild(form);

  /** What the API receives (§4 body, without citizen: the phone comes from the token). */
  const body = (): Record<string, unknown> | null => {
    clearErrors(form);
    const problems: [string, string][] = [];
    const bad = (where: string, message: string) => problems.push([where, message]);
    const n = visibleLength(content.value);
    if (n < MIN) bad("content", `请至少写${MIN}个字，说清楚您的诉求`);
    else if (n > MAX) bad("content", `内容不能超过${MAX}字，当前${n}字`);
    const location: Record<string, unknown> = {};
    if (address.value.trim()) location.address = address.value.trim();
    const la = lat.value.trim();
    const lo = lon.value.trim();
    if (la || lo) {
      const a = coordinate(la);
      const o = coordinate(lo);
      if (a === null || a < -90 || a > 90) bad("location.lat", "纬度应为 -90 到 90 之间的数字，如 42.0115");
      if (o === null || o < -180 || o > 180) bad("location.lon", "经度应为 -180 到 180 之间的数字，如 121.6708");
      if (a !== null && o !== null) {
        location.lat = a;
        location.lon = o;
      }
    }
    if (!isMobile(phone.value)) bad("phone", "请填写正确的11位手机号码");
    if (problems.length) {
      for (const [where, message] of problems) {
        const row = form.querySelector(`[data-field="${where}"]`);
        if (row) setError(row, message);
      }
      showAt(form, problems[0][0], problems[0][1]); // focus the first
      return null;
    }
    const out: Record<string, unknown> = { district, content: content.value.trim() };
    if (category.value) out.category = category.value;
    if (Object.keys(location).length) out.location = location;
    return out;
  };

  let verifying: HTMLFormElement | null = null;
  const backToForm = () => {
    verifying?.remove();
    verifying = null;
    form.hidden = false;
    next.disabled = false;
  };

  const send = async (payload: Record<string, unknown>): Promise<void> => {
    try {
      const p = await post<Petition>("/v1/citizen/petitions", payload, true);
      saveDraft(null);
      if (isCurrent()) doneView(root, p, name);
    } catch (err) {
      if (!isCurrent()) return;
      if (err instanceof ApiError && err.status === 401) {
        askCode(payload, "验证已过期，请重新获取短信验证码。");
        return;
      }
      backToForm();
      showError(form, err);
    }
  };

  const askCode = (payload: Record<string, unknown>, notice?: string) => {
    form.hidden = true;
    verifying?.remove();
    verifying = verifyPanel({
      phone: normalPhone(phone.value),
      editable: false,
      action: "验证并提交诉求",
      onVerified: () => send(payload),
      onBack: backToForm,
    });
    if (notice) verifying.insertBefore(h("p", { class: "form-error", role: "alert" }, notice), verifying.children[1]);
    section.appendChild(verifying);
    verifying.querySelector<HTMLButtonElement>("[data-send-code]")?.focus();
  };

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const payload = body();
    if (!payload) return;
    const s = currentSession();
    if (s && s.phone === normalPhone(phone.value)) {
      next.disabled = true;
      await send(payload);
      next.disabled = false;
    } else {
      askCode(payload);
    }
  });
}

function doneView(root: HTMLElement, p: Petition, districtLabel: string): void {
  const title = h("h1", { tabindex: -1 }, "提交成功");
  replace(
    root,
    title,
    h(
      "section",
      { class: "card done", "data-petition": p.id },
      h("p", { class: "lead" }, `您反映的${districtLabel}诉求已受理，我们将尽责尽快为您处理。`),
      h(
        "dl",
        { class: "facts" },
        h("dt", null, "诉求编号"),
        h("dd", { class: "pid" }, p.id),
        h("dt", null, "当前状态"),
        h("dd", null, STATUS[p.status] ?? p.status),
        h("dt", null, "提交时间"),
        h("dd", null, when(p.created_at)),
        p.due_at ? [h("dt", null, "办理时限"), h("dd", null, `${STAGE[p.stage?.name ?? ""] ?? "本环节"}应于 ${when(p.due_at)} 前完成`)] : null,
      ),
      h("p", { class: "note" }, "请记下诉求编号。办理进展和结果会以短信告诉您，也可在“我的诉求”中查看。"),
      h(
        "div",
        { class: "actions" },
        h("a", { class: "button primary", href: `#/mine/${encodeURIComponent(p.id)}` }, "查看办理进度"),
        h("a", { class: "button secondary", href: "#/" }, "返回首页"),
      ),
    ),
  );
  title.focus();
}

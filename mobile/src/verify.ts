// The SMS code step: POST /v1/citizen/otp sends a 6-digit code, POST /v1/citizen/session trades it
// for a token that names the phone. The token stays in sessionStorage (this tab only).

import { ApiError, post, setSession, type Session } from "./api";
import { clearErrors, field, formError, h } from "./dom";
import { showAt, showError } from "./errors";
import { isMobile, masked, normalPhone } from "./format";

const RESEND_SECONDS = 60; // the API sends at most one code a minute per phone

export interface VerifyOptions {
  /** The phone to verify; with ``editable`` the citizen types it here. */
  phone: string;
  editable: boolean;
  /** The submit button's words, e.g. "验证并提交". */
  action: string;
  /** Runs once the token is kept; its errors are its own to show. */
  onVerified: (session: Session) => Promise<void>;
  /** Optional "返回修改" button. */
  onBack?: () => void;
}

export function verifyPanel(opts: VerifyOptions): HTMLFormElement {
  const phoneInput = h("input", {
    type: "tel",
    name: "phone",
    inputmode: "numeric",
    autocomplete: "tel",
    maxlength: 20,
    value: opts.phone,
    required: true,
  });
  const codeInput = h("input", {
    type: "text",
    name: "code",
    inputmode: "numeric",
    autocomplete: "one-time-code",
    maxlength: 6,
    pattern: "[0-9]{6}",
    required: true,
  });
  const sendButton = h("button", { type: "button", class: "secondary", "data-send-code": true }, "获取验证码");
  const sent = h("p", { class: "note", "aria-live": "polite" });
  const submit = h("button", { type: "submit", class: "primary" }, opts.action);
  const errorBox = formError();
  let cooldown = 0;
  let timer: number | undefined;

  const phoneRow = field("phone", "手机号码", phoneInput, "仅用于接收验证码和办理结果短信");
  phoneRow.hidden = !opts.editable;

  const form = h(
    "form",
    { class: "card verify", novalidate: true, "aria-label": "短信验证" },
    h("h2", null, "短信验证"),
    opts.editable ? null : h("p", null, `验证码将发送至 ${masked(opts.phone)}。`),
    phoneRow,
    h("div", { class: "row" }, sendButton),
    sent,
    field("code", "短信验证码", codeInput, "6位数字，5分钟内有效"),
    errorBox,
    h(
      "div",
      { class: "actions" },
      submit,
      opts.onBack ? h("button", { type: "button", class: "link", onclick: () => opts.onBack?.() }, "返回修改") : null,
    ),
  );

  const phone = () => normalPhone(opts.editable ? phoneInput.value : opts.phone);

  const tick = () => {
    if (!form.isConnected) {
      window.clearInterval(timer);
      return;
    }
    cooldown -= 1;
    if (cooldown <= 0) {
      window.clearInterval(timer);
      sendButton.disabled = false;
      sendButton.textContent = "重新获取验证码";
    } else {
      sendButton.textContent = `重新获取（${cooldown}秒）`;
    }
  };

  const coolDown = (seconds: number) => {
    window.clearInterval(timer);
    sendButton.disabled = true;
    cooldown = Math.ceil(seconds) + 1;
    tick();
    timer = window.setInterval(tick, 1000);
  };

  sendButton.addEventListener("click", async () => {
    clearErrors(form);
    if (!isMobile(phone())) {
      showAt(form, "phone", "请填写正确的11位手机号码");
      return;
    }
    sendButton.disabled = true;
    try {
      const r = await post<{ expires_in?: number }>("/v1/citizen/otp", { phone: phone() });
      const minutes = Math.max(1, Math.round((r?.expires_in ?? 300) / 60));
      sent.textContent = `验证码已发送至 ${masked(phone())}，${minutes}分钟内有效。`;
      coolDown(RESEND_SECONDS);
      codeInput.focus();
    } catch (err) {
      sendButton.disabled = false;
      showError(form, err, "phone");
      if (err instanceof ApiError && err.status === 429 && err.retryAfter) coolDown(err.retryAfter);
    }
  });

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    if (!isMobile(phone())) {
      showAt(form, "phone", "请填写正确的11位手机号码");
      return;
    }
    const code = codeInput.value.replace(/\s/g, "");
    if (!/^\d{6}$/.test(code)) {
      showAt(form, "code", "请填写短信中的6位数字验证码");
      return;
    }
    submit.disabled = true;
    try {
      let session: Session;
      try {
        const r = await post<{ token: string; expires_at: string }>("/v1/citizen/session", { phone: phone(), code });
        session = { token: r.token, expires_at: r.expires_at, phone: phone() };
      } catch (err) {
        if (err instanceof ApiError && (err.status === 400 || err.status === 401) && (!err.field || err.field === "code")) {
          showAt(form, "code", err.message && /[\u3400-\u9fff]/.test(err.message) ? err.message : "验证码不正确或已过期，请重新输入");
        } else {
          showError(form, err, "code");
        }
        return;
      }
      setSession(session);
      window.clearInterval(timer);
      await opts.onVerified(session);
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}

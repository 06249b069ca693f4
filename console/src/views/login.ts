// Login. On the local stack: pick a seeded operator (POST /_local/token). Elsewhere the OIDC
// provider's ID token (Cognito, or the city's provider) is pasted until the hosted-UI redirect is wired.

import { describe, isLocalStage, post, sessionFor, setSession } from "../api";
import { field, h, option, replace } from "../dom";
import { CITY, dir, departmentName, districtName } from "../directory";
import { ROLE } from "../labels";

interface Operator {
  user: string;
  role: string;
  scope: string;
}

/** The seeded operators of one district, by the naming of CONTRACT §3. */
function operatorsOf(district: string): Operator[] {
  const out: Operator[] = ["dispatcher", "reviewer", "supervisor", "chief"].map((role) => ({
    user: `${role}@${district}`,
    role,
    scope: districtName(district),
  }));
  for (const d of dir.departments.filter((x) => x.district === district)) {
    out.push({ user: `handler@${d.code}`, role: "handler", scope: d.name });
  }
  if (district === CITY) {
    out.push({ user: `auditor@${CITY}`, role: "auditor", scope: districtName(CITY) });
    out.push({ user: `admin@${CITY}`, role: "admin", scope: districtName(CITY) });
  }
  return out;
}

export async function loginView(el: HTMLElement, message: string | undefined, done: () => void): Promise<void> {
  const status = h("p", { class: "form-error", role: "alert", hidden: !message }, message ?? "");
  const fail = (err: unknown) => {
    replace(status, describe(err));
    status.hidden = false;
  };
  const head = h("div", { class: "login-head" }, h("h1", null, "阜政通"), h("p", null, "诉求办理工作台 · 分拨、承办、审核、督办"));

  if (!isLocalStage()) {
    const input = h("textarea", { name: "token", rows: 4, placeholder: "统一身份认证（OIDC）登录后获得的 ID 令牌" });
    const form = h(
      "form",
      { class: "panel" },
      h("h2", null, "登录"),
      field("身份令牌", input),
      h("button", { type: "submit", class: "primary" }, "登录"),
      status,
    );
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      try {
        const token = input.value.trim();
        const claims = JSON.parse(atob(token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")));
        // The API takes role and scope from the directory; the console reads them off the user
        // name (role@scope, as the directory names operators) to choose its views.
        const user = String(claims["cognito:username"] ?? claims["preferred_username"] ?? claims["username"] ?? "");
        const role = user.split("@")[0];
        if (!user) throw new Error("令牌中没有用户名");
        setSession(sessionFor(token, user, role));
        done();
      } catch {
        replace(status, "令牌格式不正确，请重新复制完整的 ID 令牌");
        status.hidden = false;
      }
    });
    replace(el, head, form);
    return;
  }

  const districtSelect = h(
    "select",
    { name: "district", id: "login-district" },
    dir.districts.map((d) => option(d.code, `${d.name}（${d.code}）`, d.code === "210902")),
  );
  const list = h("ul", { class: "operators", id: "operators" });
  const login = async (op: Operator, button: HTMLButtonElement) => {
    button.disabled = true;
    try {
      const r = await post<{ token: string; user: string; role: string }>("/_local/token", { user: op.user }, false);
      setSession(sessionFor(r.token, r.user, r.role));
      done();
    } catch (err) {
      fail(err);
      button.disabled = false;
    }
  };
  const fill = () => {
    replace(
      list,
      operatorsOf(districtSelect.value).map((op) => {
        const button = h(
          "button",
          { type: "button", class: "operator", "data-user": op.user },
          h("b", null, ROLE[op.role] ?? op.role),
          h("span", { class: "scope" }, op.role === "handler" ? departmentName(op.scope) : op.scope),
          h("code", null, op.user),
        );
        button.addEventListener("click", () => void login(op, button));
        return h("li", null, button);
      }),
    );
    list.setAttribute("data-district", districtSelect.value);
  };
  districtSelect.addEventListener("change", fill);
  fill();
  replace(
    el,
    head,
    h(
      "section",
      { class: "panel" },
      h("h2", null, "选择演示账号登录"),
      h("p", { class: "muted" }, "本地环境：账号来自演示目录，令牌由 /_local/token 签发。"),
      field("区县", districtSelect),
      status,
      list,
    ),
  );
}

// Login. Wherever an OIDC provider is configured (Cognito's hosted UI in AWS, the city's provider
// in the China regions): a button that leaves for the provider (see ../oidc.ts). On the local
// stack, also: pick a seeded operator (POST /_local/token). Role and scope come from GET /v1/me.

import { describe, get, post, signInWith } from "../api";
import { field, h, option, replace } from "../dom";
import { CITY, dir, departmentName, districtName } from "../directory";
import { ROLE } from "../labels";
import { beginSignIn, type SignInOptions } from "../oidc";

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
  // 首接首办: the windows of the service centers and the 12345 hotline register petitions.
  for (const d of dir.departments.filter((x) => x.district === district && x.kind === "service_center")) {
    out.push({ user: `desk@${d.code}`, role: "desk", scope: d.name });
  }
  // 调解: the people's mediators of the center and the court's pre-litigation mediators (§11).
  for (const d of dir.departments.filter((x) => x.district === district && (x.kind === "service_center" || x.code.endsWith(".court")))) {
    out.push({ user: `mediator@${d.code}`, role: "mediator", scope: d.name });
  }
  if (district === CITY) {
    out.push({ user: `auditor@${CITY}`, role: "auditor", scope: districtName(CITY) });
    out.push({ user: `admin@${CITY}`, role: "admin", scope: districtName(CITY) });
  }
  return out;
}

export async function loginView(el: HTMLElement, options: SignInOptions, message: string | undefined, done: () => void): Promise<void> {
  const status = h("p", { class: "form-error", role: "alert", hidden: !message }, message ?? "");
  const fail = (err: unknown) => {
    replace(status, describe(err));
    status.hidden = false;
  };
  const head = h("div", { class: "login-head" }, h("h1", null, "阜政通"), h("p", null, "诉求办理工作台 · 受理、分拨、承办、审核、督办"));

  const panels: HTMLElement[] = [];
  if (options.oidc) {
    const oidc = options.oidc;
    const button = h("button", { type: "button", class: "primary", id: "oidc-signin" }, "统一身份认证登录");
    button.addEventListener("click", () => {
      button.disabled = true;
      beginSignIn(oidc).catch((err: unknown) => {
        fail(err);
        button.disabled = false;
      });
    });
    panels.push(
      h("section", { class: "panel" }, h("h2", null, "登录"), h("p", { class: "muted" }, "使用本单位统一身份认证账号登录，登录后按您的角色和辖区显示工作台。"), button),
    );
  }
  if (!options.local_tokens) {
    if (!options.oidc) {
      panels.push(h("section", { class: "panel" }, h("h2", null, "暂无法登录"), h("p", null, "本环境尚未配置统一身份认证，请联系系统管理员。")));
    }
    replace(el, head, status, ...panels);
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
      const r = await post<{ token: string }>("/_local/token", { user: op.user }, false);
      await signInWith(r.token, "local");
      done();
    } catch (err) {
      fail(err);
      button.disabled = false;
    }
  };
  // 网格员: one account per grid (gridworker@<grid code>), read from the district's public grid list.
  const gridWorkers = async (district: string): Promise<Operator[]> => {
    const { items } = await get<{ items: { code: string; name: string }[] }>("/v1/grids", { district }, false);
    return items.map((g) => ({ user: `gridworker@${g.code}`, role: "grid_worker", scope: g.name }));
  };
  let filling = 0;
  const fill = async () => {
    const district = districtSelect.value;
    const mine = ++filling;
    let operators = operatorsOf(district);
    try {
      operators = [...operators, ...(await gridWorkers(district))];
    } catch (err) {
      fail(err);
    }
    if (mine !== filling) return; // another district was picked meanwhile
    replace(
      list,
      operators.map((op) => {
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
    list.setAttribute("data-district", district);
  };
  districtSelect.addEventListener("change", () => void fill());
  const filled = fill();
  replace(
    el,
    head,
    ...panels,
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
  await filled;
}

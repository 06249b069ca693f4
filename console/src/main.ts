// 阜政通 operator console: layout, navigation by role, hash routes.

import "./styles.css";
import { ApiError, currentSession, describe, get, isLocalStage, serverNow, setSession, signInWith, syncClock, whenSessionExpires, type Session } from "./api";
import { h, replace } from "./dom";
import { districtName, departmentName, loadDirectory } from "./directory";
import { countdown, when } from "./format";
import { ROLE } from "./labels";
import { finishSignIn, isReturnFromProvider, signOutUrl, type SignInOptions } from "./oidc";
import { leave, onRefresh } from "./refresh";
import { errorBox } from "./ui";
import { boardView } from "./views/board";
import { assessmentView, chiefView } from "./views/chief";
import { detailView } from "./views/detail";
import { hotspotsView, reportsView } from "./views/foresight";
import { gridsView } from "./views/grids";
import { inboxView } from "./views/inbox";
import { listView } from "./views/list";
import { loginView } from "./views/login";
import { mediationView } from "./views/mediation";
import { mineView } from "./views/mine";
import { myGridView, poolView } from "./views/mygrid";
import { broadcastsView, casesView } from "./views/publicity";
import { queueView } from "./views/queue";
import { registerView } from "./views/register";
import { reviewView } from "./views/review";
import { statsView } from "./views/stats";

export type View = (el: HTMLElement, s: Session, arg?: string) => Promise<void>;

interface Route {
  title: (s: Session) => string;
  roles: string[] | null; // null: every role…
  except?: string[]; // …but these
  view: View;
}

const ROUTES: Record<string, Route> = {
  queue: { title: () => "待分拨", roles: ["dispatcher"], view: queueView },
  inbox: { title: () => "本部门工单", roles: ["handler"], view: inboxView },
  review: { title: () => "审核结案", roles: ["reviewer"], view: reviewView },
  board: { title: (s) => (s.role === "chief" ? "督办·批示" : "督办"), roles: ["supervisor", "chief"], view: boardView },
  chief: { title: () => "首席办事员", roles: ["chief"], view: chiefView },
  assessment: { title: () => "年度考核", roles: ["supervisor", "chief", "auditor", "admin"], view: assessmentView },
  register: { title: () => "登记诉求", roles: ["desk"], view: registerView },
  mine: { title: () => "我首问的诉求", roles: ["desk"], view: mineView },
  // A desk reads only what its unit received: that is 我首问的诉求, not a search of the district.
  list: { title: () => "诉求查询", roles: null, except: ["desk"], view: listView },
  stats: { title: () => "数据看板", roles: null, view: statsView },
  grids: { title: () => "网格", roles: null, view: gridsView },
  mygrid: { title: () => "我的网格", roles: ["grid_worker"], view: myGridView },
  pool: { title: () => "认领池", roles: ["handler", "dispatcher", "supervisor"], view: poolView },
  mediation: { title: () => "调解", roles: ["mediator", "desk", "dispatcher", "supervisor", "chief", "auditor", "admin"], view: mediationView },
  hotspots: { title: () => "热点", roles: ["dispatcher", "supervisor", "chief", "auditor", "admin"], view: hotspotsView },
  reports: { title: () => "报告", roles: ["supervisor", "chief", "auditor", "admin"], view: reportsView },
  cases: { title: () => "典型案例", roles: ["supervisor", "chief", "admin"], view: casesView },
  broadcasts: { title: () => "发一封短信", roles: ["admin"], view: broadcastsView },
};

const allowed = (name: string, s: Session) => {
  const r = ROUTES[name];
  return Boolean(r) && (r.roles === null || r.roles.includes(s.role)) && !r.except?.includes(s.role);
};

// Where a role lands when the address names no view it may open: its own work, not the search.
const HOME: Record<string, string> = { grid_worker: "mygrid", mediator: "mediation" };

function navFor(s: Session): string[] {
  return Object.keys(ROUTES).filter((name) => allowed(name, s));
}

function scopeText(s: Session): string {
  if (s.role === "desk" && s.department) return `单位：${departmentName(s.department)}`;
  if (s.department) return `部门：${departmentName(s.department)}`;
  return `辖区：${districtName(s.district)}`;
}

const app = document.getElementById("app") as HTMLElement;

function shell(s: Session, current: string): HTMLElement {
  const clock = h("span", { class: "clock", id: "clock" });
  const nav = h(
    "nav",
    { class: "nav", "aria-label": "功能导航" },
    navFor(s).map((name) =>
      h("a", { href: `#/${name}`, "data-nav": name, class: name === current ? "active" : "", "aria-current": name === current ? "page" : null }, ROUTES[name].title(s)),
    ),
  );
  const logout = h("button", { type: "button", class: "link", "data-logout": "1", onclick: () => signOut(undefined, true) }, "退出");
  return h(
    "div",
    { class: "shell" },
    h(
      "header",
      { class: "top" },
      h("a", { class: "brand", href: "#/" }, h("b", null, "阜政通"), h("span", null, "诉求办理工作台")),
      h(
        "div",
        { class: "who", "data-user": s.user, "data-role": s.role },
        h("span", { class: "role" }, ROLE[s.role] ?? s.role),
        h("span", { class: "user", title: s.user }, s.display_name || s.user),
        h("span", { class: "scope" }, scopeText(s)),
        clock,
        logout,
      ),
    ),
    nav,
    h("main", { id: "view", class: "view" }),
  );
}

/** Ends the tab's session; on the operator's own request also the provider's (single sign-out). */
function signOut(message?: string, atProvider = false): void {
  const was = currentSession();
  setSession(null);
  const leave = atProvider && was?.via === "oidc" && signInOptions?.oidc ? signOutUrl(signInOptions.oidc) : null;
  if (leave) {
    location.assign(leave);
    return;
  }
  location.hash = "#/";
  void route(message);
}

let signInOptions: SignInOptions | null = null;

async function loadSignInOptions(): Promise<SignInOptions> {
  signInOptions ??= await get<SignInOptions>("/v1/signin", {}, false);
  return signInOptions;
}

let rendering = 0;

async function route(message?: string): Promise<void> {
  const mine = ++rendering;
  leave();
  let s = currentSession();
  let options: SignInOptions;
  try {
    [options] = await Promise.all([loadSignInOptions(), loadDirectory(), syncClock()]);
  } catch (err) {
    replace(app, errorBox(err, () => void route()));
    return;
  }
  if (mine !== rendering) return;
  if (!s && options.oidc && isReturnFromProvider()) {
    // Back from the provider's sign-in page with a code: trade it for an ID token, ask who it names.
    replace(app, h("main", { class: "view login-view" }, h("p", { class: "loading", role: "status" }, "正在登录…")));
    try {
      s = await signInWith(await finishSignIn(options.oidc), "oidc");
    } catch (err) {
      message = err instanceof Error && !(err instanceof ApiError) ? err.message : describe(err);
    }
    if (mine !== rendering) return;
  }
  if (!s) {
    const el = h("main", { class: "view login-view" });
    replace(app, el);
    await loginView(el, options, message, () => {
      location.hash = "#/";
      void route();
    });
    return;
  }
  const [, name = "", arg] = location.hash.match(/^#\/([a-z]+)?(?:\/(.+))?$/) ?? [];
  let current = name;
  if (name === "p" && arg) current = "p";
  else if (!allowed(name, s)) {
    current = HOME[s.role] && allowed(HOME[s.role], s) ? HOME[s.role] : navFor(s)[0];
    // the address says where they are (a reload stays; following a link to it re-renders nothing)
    history.replaceState(null, "", `#/${current}`);
  }
  replace(app, shell(s, current));
  const view = document.getElementById("view") as HTMLElement;
  document.title = `${current === "p" ? "诉求详情" : ROUTES[current].title(s)} · 阜政通`;
  tick();
  try {
    if (current === "p") await detailView(view, s, decodeURIComponent(arg ?? ""));
    else await ROUTES[current].view(view, s);
  } catch (err) {
    replace(view, errorBox(err, () => void route()));
  }
}

// One toast for the page's life: a view re-rendered after an action must not take its message away.
document.body.appendChild(h("div", { id: "toast", class: "toast", role: "status", hidden: true }));

/** Live countdowns (and the header clock) on the stack's clock. */
function tick(): void {
  for (const el of document.querySelectorAll<HTMLElement>("[data-due]")) {
    const c = countdown(el.dataset.due as string);
    if (el.textContent !== c.text) el.textContent = c.text;
    el.classList.toggle("overdue", c.overdue);
  }
  const clock = document.getElementById("clock");
  if (clock) clock.textContent = `${isLocalStage() ? "模拟时钟 " : ""}${when(new Date(serverNow()).toISOString())}`;
}

window.setInterval(tick, 1000);
window.addEventListener("hashchange", () => void route());
onRefresh(() => void route());
whenSessionExpires(() => signOut("登录已过期，请重新登录"));
window.addEventListener("unhandledrejection", (ev) => {
  const view = document.getElementById("view");
  if (view) view.prepend(errorBox(ev.reason));
  ev.preventDefault();
  console.warn(describe(ev.reason));
});

void route();

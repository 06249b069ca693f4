// 阜政通 citizen entrance (/m/): stands in for the WeChat mini program. Hash routes:
//   #/           greeting and the county entrances
//   #/d/<code>   the form of one district or county
//   #/mine       我的诉求 (after the SMS code)
//   #/mine/<id>  one petition: status, deadline, progress, rating
//   #/cases      典型案例, anonymised
import "./styles.css";
import { currentSession, setSession } from "./api";
import { casesView } from "./cases";
import { h, replace } from "./dom";
import { masked } from "./format";
import { homeView } from "./home";
import { detailView, mineView } from "./petition";
import { reportView } from "./report";

const root = document.getElementById("app") as HTMLElement;
const nav = document.getElementById("nav") as HTMLElement;
let generation = 0;

function drawNav(): void {
  const s = currentSession();
  replace(
    nav,
    h("a", { href: "#/" }, "首页"),
    h("a", { href: "#/mine" }, "我的诉求"),
    h("a", { href: "#/cases", "data-nav": "cases" }, "典型案例"),
    s
      ? h(
          "button",
          {
            type: "button",
            class: "link",
            "data-signout": true,
            "aria-label": `退出（${masked(s.phone)}）`,
            onclick: () => {
              setSession(null);
              void route();
            },
          },
          "退出",
        )
      : null,
  );
}

async function route(): Promise<void> {
  generation += 1;
  const mine = generation;
  const isCurrent = () => mine === generation;
  const hash = decodeURIComponent(location.hash.replace(/^#\/?/, ""));
  const [head, arg] = hash.split("/");
  drawNav();
  window.scrollTo(0, 0);
  if (head === "d" && /^\d{6}$/.test(arg ?? "")) await reportView(root, arg, isCurrent);
  else if (head === "mine" && arg) await detailView(root, arg, isCurrent);
  else if (head === "mine") await mineView(root, isCurrent);
  else if (head === "cases") await casesView(root, isCurrent);
  else await homeView(root, isCurrent);
  if (isCurrent() && hash) root.querySelector<HTMLElement>("h1")?.focus();
}

window.addEventListener("hashchange", () => void route());
window.addEventListener("fzt:session", drawNav);
window.addEventListener("unhandledrejection", (ev) => {
  // a failure nobody caught: say so rather than leave a half-drawn page
  const box = h("p", { class: "form-error", role: "alert" }, "页面出错了，请刷新后重试。");
  root.prepend(box);
  ev.preventDefault();
  console.error(ev.reason);
});
void route();

// 我的网格 (CONTRACT §10), laid out for a phone's width: the grid worker's open petitions (吹哨 from
// the detail view), filing for a resident — or resolving it on the spot with a photo —, door-knock
// visits (敲门行动), and the district's claim pool. 认领池 is the same pool for handlers (报到),
// dispatchers and supervisors, with the time left before the center takes each one (兜底).

import { API_BASE, describe, get, post, type Session } from "../api";
import { field, h, replace } from "../dom";
import { categoryName } from "../directory";
import { countdown, when } from "../format";
import { label, OPEN_STATUSES, STATUS } from "../labels";
import type { Page, Petition } from "../petition";
import { empty, errorBox, loading, postButton, toast } from "../ui";
import type { View } from "../main";

interface PoolItem {
  id: string;
  district: string;
  grid: string | null;
  title: string | null;
  category: string | null;
  posted_at: string;
  posted_by: string;
  note?: string | null;
  claim_due: string;
  seconds_left: number;
}

interface Visit {
  id: string;
  grid: string;
  worker: string;
  households: number;
  notes: string;
  issues: string[];
  at: string;
}

interface Upload {
  evidence: string;
  url: string;
  headers: Record<string, string>;
}

const text = (d: FormData, name: string): string => String(d.get(name) ?? "").trim();

function card(title: string, ...children: (HTMLElement | null)[]): HTMLElement {
  return h("section", { class: "card grid-card" }, h("h3", null, title), children);
}

function poolList(items: PoolItem[], s: Session, onClaimed: () => void): HTMLElement {
  if (!items.length) return empty("认领池暂无待认领诉求");
  return h(
    "ul",
    { class: "pool", "data-pool": String(items.length) },
    items.map((i) => {
      const c = countdown(i.claim_due);
      const claim =
        s.role === "handler"
          ? postButton("报到认领", { class: "primary", "data-claim": i.id }, `/v1/petitions/${encodeURIComponent(i.id)}/claim`, `报到认领成功（${i.id}）`, onClaimed)
          : null;
      return h(
        "li",
        { "data-pool-item": i.id },
        h("a", { class: "pid", href: `#/p/${i.id}` }, i.id),
        h("span", null, i.title || categoryName(i.category)),
        h("small", { class: "muted" }, `吹哨 ${when(i.posted_at)}`),
        i.note ? h("span", { class: "note", "data-note": "1" }, `吹哨说明：${i.note}`) : null,
        h("span", { class: `countdown${c.overdue ? " overdue" : ""}`, "data-due": i.claim_due }, c.text),
        claim,
      );
    }),
  );
}

async function loadPool(target: HTMLElement, s: Session): Promise<void> {
  replace(target, loading());
  try {
    const pool = await get<{ items: PoolItem[] }>("/v1/pool");
    replace(target, poolList(pool.items, s, () => void loadPool(target, s)));
  } catch (err) {
    replace(target, errorBox(err));
  }
}

/** 认领池: handlers 报到, dispatchers and supervisors watch the time left. */
export const poolView: View = async (el, s) => {
  const list = h("div");
  const figures = s.role === "handler" ? null : h("div", { "data-grid-stats": "1" });
  replace(el, h("div", { class: "mygrid" }, card("认领池（基层吹哨、部门报到）", list), figures ? card("网格数据（本月）", figures) : null));
  await Promise.all([loadPool(list, s), figures ? loadFigures(figures) : Promise.resolve()]);
};

interface GridStats {
  visits: number;
  households: number;
  visits_per_worker: Record<string, number>;
  posted: number;
  claimed: number;
  fallbacks: number;
  open: number;
  claim_seconds_median: number | null;
  claim_seconds_p90: number | null;
}

const hours = (seconds: number | null) => (seconds === null ? "—" : `${(seconds / 3600).toFixed(1)}小时`);

async function loadFigures(target: HTMLElement): Promise<void> {
  replace(target, loading());
  try {
    const f = await get<GridStats>("/v1/stats/grid");
    replace(
      target,
      h(
        "ul",
        { class: "figures" },
        h("li", null, `吹哨 ${f.posted} 件：报到认领 ${f.claimed}，中心兜底 ${f.fallbacks}，待认领 ${f.open}`),
        h("li", null, `认领用时：中位数 ${hours(f.claim_seconds_median)}，90% ${hours(f.claim_seconds_p90)}（工作时间）`),
        h("li", null, `敲门行动 ${f.visits} 次，${f.households} 户`),
        Object.entries(f.visits_per_worker).map(([worker, n]) => h("li", { class: "muted" }, `${worker}：${n} 次`)),
      ),
    );
  } catch (err) {
    replace(target, errorBox(err));
  }
}

async function uploadPhoto(file: File): Promise<string> {
  const up = await post<Upload>("/v1/uploads", { content_type: file.type, size: file.size });
  const r = await fetch(up.url, { method: "PUT", headers: { "Content-Type": up.headers["Content-Type"] }, body: file });
  if (!r.ok) throw new Error(`照片上传失败（${r.status}）`);
  return up.evidence;
}

function fileForm(s: Session, onDone: () => void): HTMLFormElement {
  const error = h("p", { class: "form-error", role: "alert", hidden: true });
  const onSpot = h("input", { type: "checkbox", name: "on_spot" });
  const form = h(
    "form",
    { class: "action", "data-grid-file": "1", novalidate: true },
    field("诉求内容", h("textarea", { name: "content", rows: 3, required: true, maxlength: 4000, placeholder: "群众反映的问题" })),
    field("群众手机号", h("input", { name: "phone", inputmode: "tel", maxlength: 14 })),
    field("地址", h("input", { name: "address", maxlength: 200 })),
    h("label", { class: "check" }, onSpot, " 已当场解决（小事不出网格）"),
    field("答复群众", h("textarea", { name: "reply", rows: 2, maxlength: 2000, placeholder: "当场解决时填写" })),
    field("照片或凭证（JPG/PNG/PDF，10MB以内）", h("input", { type: "file", name: "photo", accept: "image/jpeg,image/png,application/pdf" })),
    h("div", { class: "form-foot" }, h("button", { type: "submit", class: "primary" }, "提交"), error),
  );
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const d = new FormData(form);
    const body: Record<string, unknown> = {
      district: s.district,
      content: text(d, "content"),
      location: { grid: s.user.split("@")[1], ...(text(d, "address") ? { address: text(d, "address") } : {}) },
    };
    if (text(d, "phone")) body.citizen = { phone: text(d, "phone") };
    else body.anonymous = true;
    try {
      if (onSpot.checked) {
        const photo = d.get("photo");
        const evidence = photo instanceof File && photo.size ? [await uploadPhoto(photo)] : [];
        body.resolved_on_spot = { reply: text(d, "reply"), ...(evidence.length ? { evidence } : {}) };
      }
      const p = await post<Petition>("/v1/grid/petitions", body);
      toast(`已受理（${p.id}）${p.status === "resolved" ? "，当场解决待审核" : ""}`);
      form.reset();
      error.hidden = true;
      onDone();
    } catch (err) {
      replace(error, describe(err));
      error.hidden = false;
    }
  });
  return form;
}

function visitForm(grid: string, onDone: () => void): HTMLFormElement {
  const error = h("p", { class: "form-error", role: "alert", hidden: true });
  const form = h(
    "form",
    { class: "action", "data-visit": "1", novalidate: true },
    field("走访户数", h("input", { name: "households", type: "number", min: 1, max: 10000, required: true })),
    field("走访情况", h("textarea", { name: "notes", rows: 2, required: true, maxlength: 2000 })),
    field("发现问题（每行一条）", h("textarea", { name: "issues", rows: 2, maxlength: 2000 })),
    h("div", { class: "form-foot" }, h("button", { type: "submit", class: "primary" }, "记录敲门行动"), error),
  );
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const d = new FormData(form);
    const issues = text(d, "issues").split("\n").map((x) => x.trim()).filter(Boolean);
    try {
      await post("/v1/grid/visits", { grid, households: Number(text(d, "households")), notes: text(d, "notes"), ...(issues.length ? { issues } : {}) });
      toast("已记录敲门行动");
      form.reset();
      error.hidden = true;
      onDone();
    } catch (err) {
      replace(error, describe(err));
      error.hidden = false;
    }
  });
  return form;
}

export const myGridView: View = async (el, s) => {
  const grid = s.user.split("@")[1] ?? "";
  const open = h("div");
  const visits = h("div");
  const pool = h("div");
  const loadOpen = async () => {
    replace(open, loading());
    try {
      // Every page: a grid worker's pages are the district's, filtered to their grids, so the grid's
      // open petitions may sit behind pages of others (at most 40 pages of 50 here).
      const items: Petition[] = [];
      let cursor: string | null = null;
      for (let n = 0; n < 40; n++) {
        const page: Page = await get<Page>("/v1/petitions", { limit: 50, cursor });
        items.push(...page.items.filter((p) => OPEN_STATUSES.includes(p.status)));
        cursor = page.next_cursor;
        if (!cursor) break;
      }
      replace(
        open,
        items.length
          ? h(
              "ul",
              { class: "pool", "data-open": String(items.length) },
              items.map((p) =>
                h(
                  "li",
                  { "data-petition": p.id },
                  h("a", { class: "pid", href: `#/p/${p.id}` }, p.id),
                  h("span", null, p.title || categoryName(p.category)),
                  h("small", { class: "muted" }, label(STATUS, p.status)),
                  p.status === "received" ? h("a", { href: `#/p/${p.id}`, class: "secondary" }, "吹哨") : null,
                ),
              ),
            )
          : empty("本网格暂无在办诉求"),
      );
    } catch (err) {
      replace(open, errorBox(err));
    }
  };
  const loadVisits = async () => {
    replace(visits, loading());
    try {
      const v = await get<{ items: Visit[]; households: number; month: string }>("/v1/grid/visits", { grid });
      replace(
        visits,
        h("p", { class: "muted" }, `${v.month}：${v.items.length}次，${v.households}户`),
        h("ul", { class: "visits" }, v.items.slice(0, 10).map((x) => h("li", null, `${when(x.at)} · ${x.households}户 · ${x.notes}`))),
      );
    } catch (err) {
      replace(visits, errorBox(err));
    }
  };
  replace(
    el,
    h(
      "div",
      { class: "mygrid", "data-grid": grid, "data-api": API_BASE },
      card("本网格在办诉求", open),
      card("代办 / 当场解决", fileForm(s, () => void loadOpen())),
      card("敲门行动", visitForm(grid, () => void loadVisits()), visits),
      card("认领池", pool),
    ),
  );
  await Promise.all([loadOpen(), loadVisits(), loadPool(pool, s)]);
};

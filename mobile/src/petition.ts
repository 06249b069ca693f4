// 我的诉求: the citizen's own petitions (GET /v1/citizen/petitions), one with its progress in plain
// words (GET /v1/citizen/petitions/{id}), and the rating once it is closed (…/{id}/feedback).

import { ApiError, currentSession, describe, get, post } from "./api";
import { categoryName, departmentNamer, districtName } from "./directory";
import { badge, clearErrors, field, formError, h, replace, type Child } from "./dom";
import { showAt, showError } from "./errors";
import { when } from "./format";
import { RATING, RATINGS, STAGE, STATUS, sentence, type TimelineEvent } from "./labels";
import { verifyPanel } from "./verify";

export interface Petition {
  id: string;
  status: string;
  district: string;
  category: string | null;
  content: string;
  location: { address?: string; lat?: number; lon?: number } | null;
  created_at: string;
  stage: { name: string; due_at: string | null } | null;
  due_at: string | null;
  sla_state?: string;
  merged_into?: string | null;
  awaiting_feedback?: boolean;
  rating?: string | null;
  reply?: string | null;
  timeline?: TimelineEvent[] | null;
}

interface Page {
  items: Petition[];
  next_cursor: string | null;
}

const OPEN = ["received", "dispatched", "accepted", "suspended", "resolved"];

/** Waiting for the citizen's rating: closed, or merged into a main petition that is closed (并单:
 * every citizen of a merged petition rates the main one's outcome, CONTRACT §9). */
function rateable(p: Petition): boolean {
  return Boolean(p.awaiting_feedback) && (p.status === "closed" || p.status === "merged");
}

function statusBadge(status: string): HTMLSpanElement {
  const kind = status === "closed" ? "done" : status === "merged" ? "muted" : "open";
  return badge(STATUS[status] ?? status, kind);
}

function dueLine(p: Petition): string | null {
  if (!OPEN.includes(p.status) || !p.due_at) return null;
  const what = STAGE[p.stage?.name ?? ""] ?? "本环节";
  return `${what}：应于 ${when(p.due_at)} 前完成`;
}

/** Without a session: the phone and its SMS code first, then ``then``. */
function signIn(root: HTMLElement, title: string, then: () => void, notice?: string): void {
  const heading = h("h1", { tabindex: -1 }, title);
  const panel = verifyPanel({
    phone: "",
    editable: true,
    action: "验证并查看",
    onVerified: async () => then(),
  });
  replace(
    root,
    heading,
    notice ? h("p", { class: "form-error", role: "alert" }, notice) : h("p", { class: "lead" }, "请验证手机号码，查看您用这个号码提交的诉求。"),
    panel,
  );
}

function failure(root: HTMLElement, title: string, err: unknown, retry: () => void): void {
  replace(
    root,
    h("h1", { tabindex: -1 }, title),
    h("p", { class: "form-error", role: "alert" }, describe(err)),
    h("div", { class: "actions" }, h("button", { type: "button", class: "secondary", onclick: retry }, "重试")),
  );
}

export async function mineView(root: HTMLElement, isCurrent: () => boolean): Promise<void> {
  const title = "我的诉求";
  if (!currentSession()) {
    signIn(root, title, () => void mineView(root, isCurrent));
    return;
  }
  let page: Page;
  try {
    page = await get<Page>("/v1/citizen/petitions", true);
  } catch (err) {
    if (!isCurrent()) return;
    if (err instanceof ApiError && err.status === 401) {
      signIn(root, title, () => void mineView(root, isCurrent), "验证已过期，请重新获取短信验证码。");
    } else failure(root, title, err, () => void mineView(root, isCurrent));
    return;
  }
  if (!isCurrent()) return;
  const list = h("ul", { class: "list", "aria-label": "我提交的诉求" });
  const more = h("button", { type: "button", class: "secondary", hidden: true }, "加载更多");
  const moreError = formError();
  let cursor = page.next_cursor;

  const add = async (items: Petition[]) => {
    for (const p of items) {
      const district = await districtName(p.district);
      const due = dueLine(p);
      list.appendChild(
        h(
          "li",
          null,
          h(
            "a",
            { class: "card item", href: `#/mine/${encodeURIComponent(p.id)}`, "data-petition": p.id },
            h("span", { class: "item-head" }, h("span", { class: "pid" }, `编号 ${p.id}`), statusBadge(p.status)),
            h("span", { class: "excerpt" }, Array.from(p.content).length > 60 ? Array.from(p.content).slice(0, 60).join("") + "…" : p.content),
            h("span", { class: "meta" }, `${district} · ${when(p.created_at)} 提交`),
            due ? h("span", { class: "meta due" }, due) : null,
            rateable(p) ? badge("待您评价", "todo") : null,
          ),
        ),
      );
    }
    more.hidden = !cursor;
  };

  more.addEventListener("click", async () => {
    if (!cursor) return;
    more.disabled = true;
    clearErrors(root);
    try {
      const next = await get<Page>(`/v1/citizen/petitions?cursor=${encodeURIComponent(cursor)}`, true);
      cursor = next.next_cursor;
      await add(next.items);
    } catch (err) {
      moreError.textContent = describe(err);
      moreError.hidden = false;
    } finally {
      more.disabled = false;
    }
  });

  const heading = h("h1", { tabindex: -1 }, title);
  replace(
    root,
    heading,
    page.items.length
      ? list
      : h("div", { class: "card empty" }, h("p", null, "您还没有用这个手机号码提交过诉求。"), h("a", { class: "button primary", href: "#/" }, "我要反映")),
    moreError,
    h("div", { class: "actions" }, more),
  );
  await add(page.items);
}

export async function detailView(root: HTMLElement, id: string, isCurrent: () => boolean, notice?: string): Promise<void> {
  const title = "诉求详情";
  const again = () => void detailView(root, id, isCurrent);
  if (!currentSession()) {
    signIn(root, title, again);
    return;
  }
  let p: Petition;
  try {
    p = await get<Petition>(`/v1/citizen/petitions/${encodeURIComponent(id)}`, true);
  } catch (err) {
    if (!isCurrent()) return;
    if (err instanceof ApiError && err.status === 401) signIn(root, title, again, "验证已过期，请重新获取短信验证码。");
    else if (err instanceof ApiError && err.status === 404) {
      replace(
        root,
        h("h1", { tabindex: -1 }, title),
        h("p", { class: "form-error", role: "alert" }, `没有找到编号为 ${id} 的诉求。只能查看用本人手机号码提交的诉求。`),
        h("div", { class: "actions" }, h("a", { class: "button secondary", href: "#/mine" }, "返回我的诉求")),
      );
    } else failure(root, title, err, again);
    return;
  }
  const [district, category, department] = await Promise.all([districtName(p.district), categoryName(p.category), departmentNamer()]);
  if (!isCurrent()) return;

  const facts: Child[] = [
    h("dt", null, "诉求编号"),
    h("dd", { class: "pid" }, p.id),
    h("dt", null, "办理状态"),
    h("dd", null, statusBadge(p.status)),
    h("dt", null, "所在区县"),
    h("dd", null, district),
    category ? [h("dt", null, "问题类别"), h("dd", null, category)] : null,
    h("dt", null, "提交时间"),
    h("dd", null, when(p.created_at)),
  ];
  const due = dueLine(p);
  if (due) facts.push(h("dt", null, "办理时限"), h("dd", { class: "due" }, due, p.sla_state === "overdue" ? "（已超时，正在督办）" : ""));
  if (p.location?.address) facts.push(h("dt", null, "问题地址"), h("dd", null, p.location.address));
  if (typeof p.location?.lat === "number" && typeof p.location?.lon === "number") {
    facts.push(h("dt", null, "位置坐标"), h("dd", null, `${p.location.lat}, ${p.location.lon}`));
  }

  const steps = (p.timeline ?? [])
    .map((e) => ({ at: e.at, text: sentence(e, department) }))
    .filter((s): s is { at: string; text: string } => s.text !== null)
    .reverse(); // newest first, as a parcel's progress reads

  const heading = h("h1", { tabindex: -1 }, title);
  replace(
    root,
    heading,
    notice ? h("p", { class: "ok", role: "status" }, notice) : null,
    h("section", { class: "card summary", "data-petition": p.id, "data-status": p.status }, h("dl", { class: "facts" }, facts)),
    h("section", { class: "card" }, h("h2", null, "诉求内容"), h("p", { class: "content" }, p.content)),
    p.merged_into ? h("p", { class: "note" }, `您的诉求与编号 ${p.merged_into} 的诉求反映的是同一问题，已合并办理，结果以该诉求为准。`) : null,
    p.reply ? h("section", { class: "card" }, h("h2", null, "办理答复"), h("p", { class: "content reply" }, p.reply)) : null,
    feedbackSection(p, root, isCurrent),
    h(
      "section",
      { class: "card" },
      h("h2", null, "办理进度"),
      steps.length
        ? h("ol", { class: "timeline" }, steps.map((s) => h("li", null, h("time", { datetime: s.at }, when(s.at)), h("span", null, s.text))))
        : h("p", { class: "note" }, "暂无进度。"),
    ),
    h("div", { class: "actions" }, h("a", { class: "button secondary", href: "#/mine" }, "返回我的诉求")),
  );
}

function feedbackSection(p: Petition, root: HTMLElement, isCurrent: () => boolean): HTMLElement | null {
  if (p.rating && !rateable(p)) {
    return h("section", { class: "card" }, h("h2", null, "我的评价"), h("p", null, RATING[p.rating] ?? p.rating));
  }
  if (!rateable(p)) return null;
  const radios = RATINGS.map(([value, text]) =>
    h("label", { class: "choice" }, h("input", { type: "radio", name: "rating", value, required: true }), h("span", null, text)),
  );
  const comment = h("textarea", { name: "comment", rows: 3, maxlength: 1000 });
  const submit = h("button", { type: "submit", class: "primary" }, "提交评价");
  const form = h(
    "form",
    { class: "card rating", novalidate: true, "aria-label": "评价办理结果" },
    h("h2", null, "请您评价"),
    h(
      "fieldset",
      { class: "fieldset", "data-field": "rating" },
      h("legend", null, "您对办理结果满意吗？"),
      h("div", { class: "choices" }, radios),
      h("p", { class: "error", role: "alert", hidden: true }),
    ),
    field("comment", "意见建议（选填）", comment, "不满意时请说明原因，我们将重新办理"),
    formError(),
    h("div", { class: "actions" }, submit),
  );
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    const chosen = form.querySelector<HTMLInputElement>('input[name="rating"]:checked');
    if (!chosen) {
      showAt(form, "rating", "请选择满意、基本满意或不满意");
      return;
    }
    const body: Record<string, string> = { rating: chosen.value };
    if (comment.value.trim()) body.comment = comment.value.trim();
    submit.disabled = true;
    try {
      await post<unknown>(`/v1/citizen/petitions/${encodeURIComponent(p.id)}/feedback`, body, true);
      if (!isCurrent()) return;
      const thanks =
        chosen.value === "dissatisfied" ? "已收到您的评价，诉求已重新交办，我们会继续为您办理。" : "感谢您的评价！";
      await detailView(root, p.id, isCurrent, thanks);
      root.querySelector<HTMLElement>("h1")?.focus();
    } catch (err) {
      submit.disabled = false;
      if (err instanceof ApiError && err.status === 401) {
        signIn(root, "诉求详情", () => void detailView(root, p.id, isCurrent), "验证已过期，请重新获取短信验证码。");
        return;
      }
      showError(form, err);
    }
  });
  return form;
}

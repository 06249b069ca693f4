// 诉求详情: everything about one petition — SLA countdown, escalation, the full timeline,
// notifications and their status — and the actions this user may take on it.

import { actionsFor } from "../actions";
import { get } from "../api";
import { badge, h, replace, section } from "../dom";
import { ESCALATION, label } from "../labels";
import {
  actorName,
  escalationBadge,
  notificationsTable,
  petitionMeta,
  replyTitle,
  slaBadge,
  slaLine,
  stagesTable,
  statusBadge,
  suggestedCoDepartments,
  suggestedDepartment,
  timelineList,
  type Evidence,
  type Petition,
} from "../petition";
import { refresh } from "../refresh";
import { loading } from "../ui";
import type { View } from "../main";
import { refreshButton, toolbar } from "./common";
import { typicalCaseForm } from "./publicity";

/** Photos shown small (a click opens the full one), PDFs as links; the links expire in minutes. */
function evidenceList(items: Evidence[]): HTMLElement {
  return h(
    "ul",
    { class: "evidence" },
    items.map((e, i) => {
      const name = e.content_type === "application/pdf" ? `材料${i + 1}（PDF）` : `照片${i + 1}`;
      if (!e.url) return h("li", { "data-evidence": e.key }, `${name}（暂不可查看）`);
      const image = e.content_type?.startsWith("image/") ? h("img", { src: e.url, alt: name, loading: "lazy" }) : null;
      return h("li", { "data-evidence": e.key }, h("a", { href: e.url, target: "_blank", rel: "noopener noreferrer" }, image ?? name));
    }),
    h("li", { class: "muted" }, "链接数分钟内有效，过期请刷新本页。"),
  );
}

export const detailView: View = async (el, s, id = "") => {
  replace(el, loading());
  const p = await get<Petition>(`/v1/petitions/${encodeURIComponent(id)}`);
  const events = p.timeline ?? [];
  const actions = actionsFor(p, s, {
    onDone: refresh,
    suggestion: { department: suggestedDepartment(events), co: suggestedCoDepartments(events) },
  });
  replace(
    el,
    toolbar(`诉求 ${p.id}`, h("a", { href: "#/", class: "button secondary" }, "返回"), refreshButton(refresh)),
    h(
      "article",
      { class: "card detail", "data-petition": p.id, "data-status": p.status },
      h("header", { class: "card-head" }, h("span", { class: "pid" }, p.id), statusBadge(p), p.priority === "urgent" ? badge("紧急", "urgent") : null, slaBadge(p), escalationBadge(p)),
      h("h3", { class: "title" }, p.title || "诉求内容"),
      h("p", { class: "content" }, p.content),
      petitionMeta(p, true),
    ),
    section(
      "时限",
      slaLine(p),
      stagesTable(p, events),
      h("p", { "data-escalation": p.escalation_level }, `升级情况：${label(ESCALATION, p.escalation_level)}`),
      p.extension_pending
        ? h("p", { class: "note warn" }, `延期申请待审批：${p.extension_pending.working_days}个工作日，理由：${p.extension_pending.reason}`)
        : null,
    ),
    p.reply
      ? section(
          replyTitle(p),
          h("p", { class: "reply", "data-reply": p.answered_by ? "answered" : "resolved" }, p.reply),
          p.answered_by ? h("p", { class: "muted" }, `由 ${actorName(p.answered_by)} 当场答复（即办），经审核后结案。`) : null,
        )
      : null,
    p.evidence?.length ? section("现场照片及材料", evidenceList(p.evidence)) : null,
    actions ? section("办理", actions) : null,
    typicalCaseForm(p, s),
    section("办理时间线", timelineList(events)),
    section("通知及发送状态", notificationsTable(events)),
  );
};

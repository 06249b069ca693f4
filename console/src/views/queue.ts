// 待分拨: the dispatcher's queue (status=received), each with the suggested department
// preselected, co-departments, one-step dispatch and merge (并单).

import { actionsFor, type Suggestion } from "../actions";
import { get } from "../api";
import { h, replace } from "../dom";
import { petitionCard, suggestedCoDepartments, suggestedDepartment, type Petition } from "../petition";
import { refresh } from "../refresh";
import { limiter } from "../ui";
import type { View } from "../main";
import { districtFilter, refreshButton, toolbar } from "./common";
import { feed } from "./feed";

export const queueView: View = async (el, s) => {
  let district = "";
  const body = h("div");
  const detailLimit = limiter(4);
  const render = () =>
    replace(
      body,
      feed({
        query: { status: "received", limit: 20, district },
        emptyText: "暂无待分拨诉求",
        card: (p, peers) => {
          // The suggestion is on the `created` event of the timeline: one read per card, four at a time.
          const suggestion: Promise<Suggestion> = detailLimit(() => get<Petition>(`/v1/petitions/${encodeURIComponent(p.id)}`)).then((d) => ({
            department: suggestedDepartment(d.timeline),
            co: suggestedCoDepartments(d.timeline),
          }));
          return petitionCard(p, actionsFor(p, s, { onDone: refresh, suggestion, peers }));
        },
      }),
    );
  replace(
    el,
    toolbar(
      "待分拨",
      districtFilter(s, district, (v) => {
        district = v;
        render();
      }),
      refreshButton(render),
    ),
    h("p", { class: "muted" }, "按受理时间倒序。派单前请核对系统建议的承办部门；重复诉求可并入主诉求。"),
    body,
  );
  render();
};

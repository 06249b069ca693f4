// 审核结案: resolved petitions in the reviewer's district, approve (close) or send back.

import { actionsFor } from "../actions";
import { h, replace } from "../dom";
import { petitionCard } from "../petition";
import { refresh } from "../refresh";
import type { View } from "../main";
import { districtFilter, refreshButton, toolbar } from "./common";
import { feed } from "./feed";

export const reviewView: View = async (el, s) => {
  let district = "";
  const body = h("div");
  const render = () =>
    replace(
      body,
      feed({
        query: { status: "resolved", limit: 20, district },
        emptyText: "暂无待审核的办结件",
        card: (p) => petitionCard(p, actionsFor(p, s, { onDone: refresh })),
      }),
    );
  replace(
    el,
    toolbar(
      "审核结案",
      districtFilter(s, district, (v) => {
        district = v;
        render();
      }),
      refreshButton(render),
    ),
    h("p", { class: "muted" }, "审核通过即结案，并以短信向群众发送办结答复和满意度回访。"),
    body,
  );
  render();
};

// 本部门工单: the handler's inbox — accept or return (退单), then resolve, extend, suspend/resume.

import { actionsFor } from "../actions";
import { h, replace } from "../dom";
import { departmentName } from "../directory";
import { petitionCard } from "../petition";
import { refresh } from "../refresh";
import type { View } from "../main";
import { refreshButton, toolbar } from "./common";
import { feed } from "./feed";
import { tabs } from "./tabs";

const STATES: [string, string][] = [
  ["dispatched", "待签收"],
  ["accepted", "办理中"],
  ["suspended", "挂起"],
  ["resolved", "待审核"],
  ["closed", "已结案"],
];

let lastTab = "dispatched";

export const inboxView: View = async (el, s) => {
  const body = h("div");
  const render = () =>
    replace(
      body,
      feed({
        query: { status: lastTab, limit: 20 },
        emptyText: "暂无工单",
        card: (p) => petitionCard(p, actionsFor(p, s, { onDone: refresh })),
      }),
    );
  replace(
    el,
    toolbar(`本部门工单 · ${departmentName(s.department)}`, refreshButton(render)),
    tabs(STATES, lastTab, (v) => {
      lastTab = v;
      render();
    }),
    body,
  );
  render();
};

// 诉求查询: every petition in the user's scope, filtered by status, district, department, overdue.

import { actionsFor } from "../actions";
import { h, option, replace } from "../dom";
import { STATUS } from "../labels";
import { petitionCard } from "../petition";
import { refresh } from "../refresh";
import type { View } from "../main";
import { departmentFilter, districtFilter, refreshButton, toolbar } from "./common";
import { feed } from "./feed";

export const listView: View = async (el, s) => {
  const f = { status: "", district: "", department: "", overdue: false };
  const body = h("div");
  const render = () =>
    replace(
      body,
      feed({
        query: { limit: 20, status: f.status, district: f.district, department: s.role === "handler" ? "" : f.department, overdue: f.overdue },
        emptyText: "没有符合条件的诉求",
        card: (p) => petitionCard(p, actionsFor(p, s, { onDone: refresh })),
      }),
    );
  const status = h("select", { name: "status", "aria-label": "状态" }, option("", "全部状态"), Object.entries(STATUS).map(([v, l]) => option(v, l)));
  status.addEventListener("change", () => {
    f.status = status.value;
    render();
  });
  const overdue = h("input", { type: "checkbox", name: "overdue" });
  overdue.addEventListener("change", () => {
    f.overdue = overdue.checked;
    render();
  });
  const deptHolder = h("span");
  const deptSelect = () =>
    s.role === "handler"
      ? null
      : departmentFilter(f.district || (s.district === "210900" ? "" : s.district), f.department, (v) => {
          f.department = v;
          render();
        });
  replace(deptHolder, deptSelect());
  replace(
    el,
    toolbar(
      "诉求查询",
      status,
      districtFilter(s, f.district, (v) => {
        f.district = v;
        f.department = "";
        replace(deptHolder, deptSelect());
        render();
      }),
      deptHolder,
      h("label", { class: "check" }, overdue, "仅看超期"),
      refreshButton(render),
    ),
    body,
  );
  render();
};

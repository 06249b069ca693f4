// Pieces several views share: the title bar with filters, and scope-limited selects.

import type { Session } from "../api";
import { h, option, type Child } from "../dom";
import { CITY, dir, districtsIn } from "../directory";

export function toolbar(title: string, ...controls: Child[]): HTMLElement {
  return h("div", { class: "toolbar" }, h("h2", null, title), h("div", { class: "filters" }, controls));
}

export function refreshButton(onClick: () => void): HTMLButtonElement {
  return h("button", { type: "button", class: "secondary", "data-refresh": "1", onclick: () => onClick() }, "刷新");
}

/** Districts the user may look at; a district-level user has only their own (no select). */
export function districtFilter(
  s: Session,
  value: string,
  onChange: (v: string) => void,
  allLabel: string | null = "全部区县",
): HTMLSelectElement | null {
  if (s.district !== CITY) return null;
  const sel = h(
    "select",
    { name: "district", "aria-label": "区县" },
    allLabel === null ? null : option("", allLabel, value === ""),
    districtsIn(s.district).map((d) => option(d.code, d.name, d.code === value)),
  );
  sel.addEventListener("change", () => onChange(sel.value));
  return sel;
}

export function departmentFilter(district: string, value: string, onChange: (v: string) => void): HTMLSelectElement {
  const deps = dir.departments.filter((d) => !district || d.district === district);
  const sel = h(
    "select",
    { name: "department", "aria-label": "部门" },
    option("", "全部部门", value === ""),
    deps.map((d) => option(d.code, d.name, d.code === value)),
  );
  sel.addEventListener("change", () => onChange(sel.value));
  return sel;
}

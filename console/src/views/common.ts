// Pieces several views share: the title bar with filters, and scope-limited selects.

import type { Session } from "../api";
import { h, option, replace, type Child } from "../dom";
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

/** What a view is filtered to: a district ("" for all the user may see) and a department ("" for all). */
export interface Where {
  district: string;
  department: string;
}

export function initialWhere(s: Session): Where {
  return { district: s.district === CITY ? "" : s.district, department: "" };
}

/** The district select (city-level users only) and the chosen district's department select, kept
 * in `where`; choosing another district clears the department. */
export function whereFilters(s: Session, where: Where, onChange: () => void, departments = true): Child[] {
  const holder = h("span");
  const departmentSelect = () =>
    departments
      ? departmentFilter(where.district, where.department, (v) => {
          where.department = v;
          onChange();
        })
      : null;
  replace(holder, departmentSelect());
  const districtSelect = districtFilter(s, where.district, (v) => {
    where.district = v;
    where.department = "";
    replace(holder, departmentSelect());
    onChange();
  });
  return [districtSelect, holder];
}

// The public directory, read once per page load: names for codes, scope checks.

import { get } from "./api";

export interface District {
  code: string;
  name: string;
  level: string;
  parent: string | null;
}
export interface Department {
  code: string;
  district: string;
  name: string;
  kind: string;
}
export interface Category {
  code: string;
  name: string;
  parent: string | null;
}

export const CITY = "210900";

export const dir = {
  districts: [] as District[],
  departments: [] as Department[],
  categories: new Map<string, Category>(),
  loaded: false,
};

let loading: Promise<void> | null = null;

export function loadDirectory(): Promise<void> {
  if (!loading) {
    loading = Promise.all([
      get<{ items: District[] }>("/v1/directory/districts", {}, false),
      get<{ items: Department[] }>("/v1/directory/departments", {}, false),
      get<{ items: Category[] }>("/v1/categories", {}, false),
    ]).then(([d, p, c]) => {
      dir.districts = d.items;
      dir.departments = p.items;
      dir.categories = new Map(c.items.map((x) => [x.code, x]));
      dir.loaded = true;
    });
    loading.catch(() => {
      loading = null; // a failed load is tried again by the next view
    });
  }
  return loading;
}

export function districtName(code: string | null | undefined): string {
  if (!code) return "—";
  return dir.districts.find((d) => d.code === code)?.name ?? code;
}

export function departmentName(code: string | null | undefined): string {
  if (!code) return "—";
  const dep = dir.departments.find((d) => d.code === code);
  if (dep) return dep.name;
  if (code.endsWith(".dispatch")) return `${districtName(code.split(".")[0])}分拨中心`;
  return code;
}

export function categoryName(code: string | null | undefined): string {
  if (!code) return "未分类";
  return dir.categories.get(code)?.name ?? code;
}

/** The city covers every district; a district covers itself (as the API's directory.covers). */
export function covers(scope: string, district: string): boolean {
  return scope === CITY || scope === district;
}

export function districtsIn(scope: string): District[] {
  return dir.districts.filter((d) => covers(scope, d.code));
}

/** Departments a petition of `district` may go to: the district's own and the city's. */
export function departmentsFor(district: string): Department[] {
  return dir.departments.filter((d) => d.district === district || (d.district === CITY && district !== CITY));
}

// The public directory (districts, categories, departments), fetched once per page load.

import { get } from "./api";
import { ENTRANCE_ORDER } from "./labels";

export interface District {
  code: string;
  name: string;
  level: string;
  parent: string | null;
}
export interface Category {
  code: string;
  name: string;
  parent: string | null;
  description?: string | null;
}
interface Department {
  code: string;
  name: string;
}
interface Items<T> {
  items: T[];
}

const cache = new Map<string, Promise<unknown>>();

function once<T>(path: string): Promise<T[]> {
  let p = cache.get(path) as Promise<T[]> | undefined;
  if (!p) {
    p = get<Items<T>>(path).then((r) => r.items);
    p.catch(() => cache.delete(path)); // a failure is not remembered: the next view asks again
    cache.set(path, p);
  }
  return p;
}

export const districts = () => once<District>("/v1/directory/districts");
export const categories = () => once<Category>("/v1/categories");
const departments = () => once<Department>("/v1/directory/departments");

/** The county entrances: every district but the city itself, in the mini program's order. */
export function entrances(all: District[]): District[] {
  const rank = (d: District) => {
    const i = ENTRANCE_ORDER.indexOf(d.code);
    return i >= 0 ? i : ENTRANCE_ORDER.length;
  };
  return all
    .filter((d) => d.parent !== null && d.level !== "city")
    .sort((a, b) => rank(a) - rank(b) || a.code.localeCompare(b.code));
}

export async function districtName(code: string): Promise<string> {
  try {
    return (await districts()).find((d) => d.code === code)?.name ?? code;
  } catch {
    return code;
  }
}

export async function categoryName(code: string | null | undefined): Promise<string | null> {
  if (!code) return null;
  try {
    return (await categories()).find((c) => c.code === code)?.name ?? code;
  } catch {
    return code;
  }
}

/** Department names for the timeline ("承办部门" when the directory cannot say). */
export async function departmentNamer(): Promise<(code: unknown) => string> {
  let names = new Map<string, string>();
  try {
    names = new Map((await departments()).map((d) => [d.code, d.name]));
  } catch {
    // the timeline still reads without names
  }
  return (code) => (typeof code === "string" && names.get(code)) || "承办部门";
}

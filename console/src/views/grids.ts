// 网格: the grids of a district (街道/社区/小区/楼栋, 乡镇/村/屯) and each grid's public board.

import { get } from "../api";
import { h, replace } from "../dom";
import { CITY } from "../directory";
import { GRID_LEVEL, label } from "../labels";
import { empty, into } from "../ui";
import type { View } from "../main";
import { districtFilter, toolbar } from "./common";

interface Grid {
  code: string;
  district: string;
  name: string;
  level: string;
  parent: string | null;
  kind: string;
}
interface Worker {
  id: string;
  name: string;
  phone: string;
  duties: string;
  supervision_phone: string;
  photo_url?: string | null;
}
interface BuildingHead {
  name: string;
  building: string;
  phone: string; // masked by the API
}
type Board = Grid & { workers: Worker[]; building_heads?: BuildingHead[] };

function tree(grids: Grid[], onPick: (g: Grid, button: HTMLElement) => void): HTMLElement {
  const children = new Map<string | null, Grid[]>();
  const known = new Set(grids.map((g) => g.code));
  for (const g of grids) {
    const parent = g.parent && known.has(g.parent) ? g.parent : null;
    children.set(parent, [...(children.get(parent) ?? []), g]);
  }
  const branch = (parent: string | null): HTMLElement | null => {
    const list = children.get(parent);
    if (!list?.length) return null;
    return h(
      "ul",
      { class: "tree" },
      list.map((g) => {
        const button = h("button", { type: "button", class: "link", "data-grid": g.code }, g.name, h("small", null, ` ${label(GRID_LEVEL, g.level)}`));
        button.addEventListener("click", () => onPick(g, button));
        return h("li", null, button, branch(g.code));
      }),
    );
  };
  return branch(null) ?? empty("该区县暂无网格");
}

function boardOf(g: Board): HTMLElement {
  const heads = g.building_heads ?? [];
  return h(
    "div",
    { class: "grid-board", "data-board": g.code },
    h("h3", null, g.name),
    h("p", { class: "muted" }, `${label(GRID_LEVEL, g.level)} · ${g.kind === "rural" ? "农村网格" : "城市网格"} · 编码 ${g.code}`),
    g.workers.length
      ? h(
          "ul",
          { class: "workers" },
          g.workers.map((w) =>
            h(
              "li",
              null,
              w.photo_url ? h("a", { href: w.photo_url, target: "_blank", rel: "noopener noreferrer", class: "photo" }, "照片") : null,
              h("b", null, `网格员 ${w.name}`),
              h("span", null, `联系电话：${w.phone}`),
              h("span", null, `职责：${w.duties}`),
              h("span", null, `监督电话：${w.supervision_phone}`),
            ),
          ),
        )
      : empty("本网格未设专职网格员，请查看上级网格"),
    heads.length
      ? h(
          "div",
          { class: "heads", "data-heads": String(heads.length) },
          h("h4", null, "楼栋长"),
          h(
            "ul",
            { class: "workers" },
            heads.map((b) => h("li", null, h("b", null, `${b.building} ${b.name}`), h("span", null, `联系电话：${b.phone}`))),
          ),
        )
      : null,
  );
}

export const gridsView: View = async (el, s) => {
  let district = s.district === CITY ? "210902" : s.district;
  const list = h("div", { class: "grid-tree" });
  const board = h("div", { class: "grid-side" }, empty("选择左侧网格查看网格员公示牌"));
  const load = () =>
    into(list, async () => {
      const { items } = await get<{ items: Grid[] }>("/v1/grids", { district }, false);
      return tree(items, (g, button) => {
        list.querySelectorAll(".picked").forEach((b) => b.classList.remove("picked"));
        button.classList.add("picked");
        void into(board, async () => boardOf(await get<Board>(`/v1/grids/${encodeURIComponent(g.code)}`, {}, false))).then(() => {
          // On a phone the board sits below the tree: bring it into view.
          if (window.matchMedia("(max-width: 700px)").matches) board.scrollIntoView({ block: "start" });
        });
      });
    });
  const select = districtFilter(s, district, (v) => {
    district = v;
    replace(board, empty("选择左侧网格查看网格员公示牌"));
    void load();
  }, null);
  replace(el, toolbar("网格", select), h("div", { class: "split" }, list, board));
  await load();
};

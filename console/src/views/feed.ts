// A paged list of petitions (GET /v1/petitions with filters and the cursor), rendered as cards.

import { get, type Query } from "../api";
import { append, h, replace } from "../dom";
import type { Page, Petition } from "../petition";
import { empty, errorBox, loading } from "../ui";

export interface FeedOptions {
  query: Query;
  emptyText: string;
  card: (p: Petition, peers: Petition[]) => HTMLElement;
}

export function feed(opts: FeedOptions): HTMLElement {
  const list = h("div", { class: "cards", "data-feed": "1" });
  const foot = h("div", { class: "feed-foot" });
  const box = h("div", { class: "feed" }, list, foot);
  const seen: Petition[] = [];
  // A page may hold fewer items than asked, even none, with more behind it (a grid worker's pages are
  // the district's, filtered to their grids): an empty page is followed at once, a few times over.
  const FOLLOW_EMPTY = 10;
  const load = async (cursor: string | null, followed = 0) => {
    replace(foot, loading());
    try {
      const page = await get<Page>("/v1/petitions", { ...opts.query, cursor });
      seen.push(...page.items);
      if (!page.items.length && page.next_cursor && followed < FOLLOW_EMPTY) {
        await load(page.next_cursor, followed + 1);
        return;
      }
      list.querySelector(":scope > .empty")?.remove();
      if (!seen.length && !page.next_cursor) append(list, [empty(opts.emptyText)]);
      append(list, page.items.map((p) => opts.card(p, seen)));
      list.setAttribute("data-count", String(seen.length));
      box.setAttribute("data-loaded", "1");
      replace(
        foot,
        page.next_cursor
          ? h("button", { type: "button", class: "secondary", "data-more": "1", onclick: () => void load(page.next_cursor) }, "加载更多")
          : seen.length
            ? h("p", { class: "muted" }, `共 ${seen.length} 件`)
            : null,
      );
    } catch (err) {
      replace(foot, errorBox(err, () => void load(cursor)));
    }
  };
  void load(null);
  return box;
}

"""未诉先办: hotspots — a grid × category whose last 7 days stand out against the 8 weeks before.

:func:`detect` is pure: over a mapping {(day "YYYY-MM-DD", grid, category): received count} it
returns what crosses the policy's thresholds (≥ min_count in the window and ≥ ratio × the
baseline's weekly mean). The counts come through the :class:`GridCounts` port: the runtime
wires the supervision rollups (received per day, grid and category, kept in each petition's
transaction). :class:`PetitionGridCounts` counts the same from the petitions themselves (the
district index over the 9 weeks): the reference the rollups are tested against.

A hotspot's lifecycle: ``open`` (notices of kind ``hotspot`` to the owning department and the
district's supervisor, through the outbox) → ``case_opened`` (a dispatcher opened a proactive
petition, into which later matching petitions of the same grid and category are merged, so
every citizen gets the closure SMS of the one outcome) → ``cooled`` (the window fell back under
the threshold). Each step is an event on the hotspot.
"""

from __future__ import annotations

import hashlib
import re
import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from chalicelib.auth.identity import OPERATOR, Identity
from chalicelib.clock import SHANGHAI, iso, utc_key
from chalicelib.errors import Conflict, FztError, InvalidInput, NotFound
from chalicelib.foresight.broadcast import policy
from chalicelib.notify.outbox import OutboxRecord
from chalicelib.petitions.domain import Env, Petition, merge_into

Key = tuple[str, str, str]  # (day, grid, category)


class GridCounts(Protocol):
    def grid_counts(self, district: str, first_day: str, last_day: str) -> dict[Key, int]: ...


@dataclass(frozen=True)
class Thresholds:
    window_days: int = 7
    baseline_weeks: int = 8
    min_count: int = 5
    ratio: float = 3.0
    near_duplicate: float = 0.6  # MinHash resemblance above which a text is the same complaint

    @classmethod
    def from_policy(cls) -> Thresholds:
        return cls(**policy()["hotspots"])


def windows(today: date, t: Thresholds) -> tuple[date, date, date]:
    """(first day of the baseline, first day of the window, today)."""
    window_start = today - timedelta(days=t.window_days - 1)
    return window_start - timedelta(weeks=t.baseline_weeks), window_start, today


def detect(counts: Mapping[Key, int], today: date, t: Thresholds = Thresholds()) -> list[dict]:
    """The (grid, category) pairs that are hot on ``today``, hottest first."""
    baseline_start, window_start, _ = windows(today, t)
    window: dict[tuple[str, str], int] = {}
    baseline: dict[tuple[str, str], int] = {}
    for (day, grid, category), n in counts.items():
        d = date.fromisoformat(day)
        if window_start <= d <= today:
            window[(grid, category)] = window.get((grid, category), 0) + n
        elif baseline_start <= d < window_start:
            baseline[(grid, category)] = baseline.get((grid, category), 0) + n
    found = []
    for (grid, category), n in window.items():
        weekly = baseline.get((grid, category), 0) / t.baseline_weeks
        if n >= t.min_count and n >= t.ratio * weekly:
            found.append(
                {"grid": grid, "category": category, "count": n, "baseline_weekly": round(weekly, 2)}
            )
    return sorted(found, key=lambda h: (-h["count"], h["grid"], h["category"]))


# --- near-duplicate text: MinHash over character bigrams ------------------------------------------------
# Chinese has no spaces to split words on; character bigrams stand in for a segmenter (jieba's
# dictionary alone is ~20 MB of the one Lambda bundle) and MinHash keeps a text to 64 integers, so a
# hotspot can carry the signatures of its first petitions and compare each newcomer in microseconds.

SIGNATURE_SIZE = 64
KEPT_SIGNATURES = 8
_NOT_WORDS = re.compile(r"[\sA-Za-z0-9０-９，。、；：？！“”‘’（）()【】《》,.;:?!'\"\-—…·#@/]+")


def shingles(text: str) -> set[str]:
    letters = _NOT_WORDS.sub("", text or "")
    return {letters[i : i + 2] for i in range(len(letters) - 1)} or ({letters} if letters else set())


def signature(text: str) -> list[int]:
    grams = [g.encode("utf-8") for g in shingles(text)]
    if not grams:
        return [0xFFFFFFFF] * SIGNATURE_SIZE
    return [
        min(zlib.crc32(g, seed * 0x9E3779B1 & 0xFFFFFFFF) for g in grams) for seed in range(SIGNATURE_SIZE)
    ]


def resemblance(a: list[int], b: list[int]) -> float:
    """The estimated Jaccard similarity of the two texts' bigram sets."""
    return sum(1 for x, y in zip(a, b, strict=True) if x == y) / SIGNATURE_SIZE


def is_hot(counts: Mapping[Key, int], today: date, grid: str, category: str, t: Thresholds) -> bool:
    return any(h["grid"] == grid and h["category"] == category for h in detect(counts, today, t))


class PetitionReads(Protocol):
    def get(self, petition_id: str) -> Petition | None: ...
    def received_between(self, index: str, key: str, lo: str, hi: str) -> Iterable[Petition]: ...


@dataclass
class PetitionGridCounts:
    """The fallback GridCounts: the district's petitions over the days asked, by the district index."""

    petitions: PetitionReads

    def grid_counts(self, district: str, first_day: str, last_day: str) -> dict[Key, int]:
        lo = datetime.fromisoformat(first_day).replace(tzinfo=SHANGHAI)
        hi = datetime.fromisoformat(last_day).replace(tzinfo=SHANGHAI) + timedelta(days=1)
        out: dict[Key, int] = {}
        for p in self.petitions.received_between("district", district, utc_key(iso(lo)), utc_key(iso(hi))):
            grid = (p.location or {}).get("grid")
            if not grid or not p.category or p.channel == "proactive":
                continue
            day = datetime.fromisoformat(p.created_at.replace("Z", "+00:00")).astimezone(SHANGHAI).date()
            key = (day.isoformat(), grid, p.category)
            out[key] = out.get(key, 0) + 1
        return out


class HotspotStore(Protocol):
    def open_hotspot(self, hotspot: dict) -> bool: ...
    def save_hotspot(self, hotspot: dict) -> None: ...
    def hotspots(self, district: str) -> list[dict]: ...
    def hotspot(self, district: str, hotspot_id: str) -> dict | None: ...


class OutboxWrites(Protocol):
    def stage_new(self, tx: Any, record: OutboxRecord) -> None: ...


def hotspot_id(district: str, grid: str, category: str, day: str) -> str:
    digest = hashlib.sha256(f"{district}|{grid}|{category}|{day}".encode()).hexdigest()[:10].upper()
    return f"HS{day.replace('-', '')[2:]}{digest}"


def _event(kind: str, at: str, actor: str, **data: Any) -> dict:
    return {"type": kind, "at": at, "actor": actor, **{k: v for k, v in data.items() if v is not None}}


@dataclass
class Hotspots:
    store: HotspotStore
    counts: GridCounts
    petitions: PetitionReads
    database: Any  # the transaction factory (the notices' outbox records)
    outbox: OutboxWrites
    publish: Callable[[list[str], Env], None]
    commit: Callable[[Any, Env], Any]  # the unit of work's commit (merges)
    open_case: Callable[[Identity, Any], tuple[int, dict]]  # intake: files the proactive petition
    env: Callable[[], Env]

    # --- the hourly run ---------------------------------------------------------------------------------

    def run(self, district: str | None = None) -> dict:
        env = self.env()
        t = Thresholds.from_policy()
        today = env.now.astimezone(SHANGHAI).date()
        first, _, last = windows(today, t)
        districts = [district] if district else [d.code for d in env.directory.districts]
        opened, cooled, merged = [], [], 0
        for code in districts:
            counts = self.counts.grid_counts(code, first.isoformat(), last.isoformat())
            hot = {(h["grid"], h["category"]): h for h in detect(counts, today, t)}
            current = [h for h in self.store.hotspots(code) if h["status"] in ("open", "case_opened")]
            known = {(h["grid"], h["category"]) for h in current}
            for (grid, category), found in hot.items():
                if (grid, category) in known:
                    continue
                h = self._open(env, code, grid, category, found, today)
                if h is not None:
                    opened.append(h["id"])
            for h in current:
                if (h["grid"], h["category"]) not in hot:
                    h = {**h, "status": "cooled", "cooled_at": iso(env.now)}
                    h["events"] = [*h["events"], _event("cooled", iso(env.now), "system:hotspots")]
                    self.store.save_hotspot(h)
                    cooled.append(h["id"])
                elif h["status"] == "case_opened":
                    merged += self._absorb(h, env)
        return {"opened": opened, "cooled": cooled, "merged": merged}

    def _open(
        self, env: Env, district: str, grid: str, category: str, found: dict, today: date
    ) -> dict | None:
        route = env.directory.route(category, district)
        department = route.department if route else None
        place = env.directory.grid(grid)
        h = {
            "id": hotspot_id(district, grid, category, today.isoformat()),
            "district": district,
            "grid": grid,
            "grid_name": place.name if place else grid,
            "category": category,
            "department": department,
            "status": "open",
            "count": found["count"],
            "baseline_weekly": found["baseline_weekly"],
            "opened_at": iso(env.now),
            "case": None,
            "merged": [],
            "events": [
                _event(
                    "opened",
                    iso(env.now),
                    "system:hotspots",
                    count=found["count"],
                    baseline_weekly=found["baseline_weekly"],
                )
            ],
        }
        if not self.store.open_hotspot(h):
            return None
        self._notify(h, env)
        return h

    def _notify(self, h: dict, env: Env) -> None:
        """Kind ``hotspot``: to the owning department (orders topic) and the supervisor (supervision)."""
        grid = env.directory.grid(h["grid"])
        category = env.directory.category(h["category"])
        place = env.directory.district(h["district"])
        values = {
            "district_name": place.name if place else h["district"],
            "grid_name": getattr(grid, "name", None) or h["grid"],
            "category_name": getattr(category, "name", None) or h["category"],
            "count": h["count"],
            "baseline": h["baseline_weekly"],
            "hotspot": h["id"],
        }
        tx = self.database.transaction()
        ids = []
        for n, (topic, department) in enumerate(
            (("orders", h["department"] or f"{h['district']}.dispatch"), ("supervision", None))
        ):
            attributes = {"kind": "hotspot", "district": h["district"], "level": "district"}
            if department:
                attributes["department"] = department
            record = OutboxRecord(
                id=f"{h['id']}#notice#{n}",
                petition_id="",
                kind="hotspot",
                channel="topic",
                status="queued",
                created_at=iso(env.now),
                body={"template": "hotspot", "values": values, "topic": topic, "attributes": attributes},
                next_attempt_at=utc_key(iso(env.now)),
            )
            self.outbox.stage_new(tx, record)
            ids.append(record.id)
        tx.commit()
        self.publish(ids, env)

    # --- the dispatcher's calls -------------------------------------------------------------------------

    def list(self, identity: Identity, district: str | None) -> dict:
        from chalicelib.auth import scope

        env = self.env()
        codes = scope.districts(identity, env.directory, district)
        items = [h for code in codes for h in self.store.hotspots(code)]
        items.sort(key=lambda h: h["opened_at"], reverse=True)
        return {"items": items}

    def _find(self, identity: Identity, hotspot_id: str, env: Env) -> dict:
        from chalicelib.auth import scope

        for code in scope.districts(identity, env.directory, None):
            h = self.store.hotspot(code, hotspot_id)
            if h is not None:
                return h
        raise NotFound(f"no hotspot {hotspot_id}", field="id")

    def case(self, identity: Identity, hotspot_id: str, body: Any) -> dict:
        """A proactive petition (channel ``proactive``) for the hotspot; the matching petitions
        received so far are merged into it, and later ones by the hourly run."""
        env = self.env()
        h = self._find(identity, hotspot_id, env)
        if h["status"] != "open":
            raise Conflict(f"the hotspot is {h['status']}", code="invalid_state")
        category = env.directory.category(h["category"])
        grid = env.directory.grid(h["grid"])
        what = getattr(category, "name", None) or h["category"]
        where = getattr(grid, "name", None) or h["grid"]
        content = (body.note if body and body.note else "") or (
            f"未诉先办：{where}近7日集中反映{what}问题{h['count']}件，主动立案统一处置。"
        )
        from chalicelib.intake.models import PetitionIn

        try:
            petition_body = PetitionIn.model_validate(
                {
                    "district": h["district"],
                    "content": content,
                    "title": f"热点：{what}"[:60],
                    "category": h["category"],
                    "anonymous": True,
                    "location": {"grid": h["grid"]},
                    "channel_ref": h["id"],
                }
            )
        except ValueError as exc:
            raise InvalidInput("the case note is not a valid petition content", field="note") from exc
        _, petition = self.open_case(identity, petition_body)
        h = {**h, "status": "case_opened", "case": petition["id"], "case_by": identity.actor}
        h["events"] = [
            *h["events"],
            _event("case_opened", iso(env.now), identity.actor, petition=petition["id"]),
        ]
        self.store.save_hotspot(h)
        merged = self._absorb(h, env)
        return {**(self.store.hotspot(h["district"], h["id"]) or h), "merged_now": merged}

    def _merge(self, p: Petition, main_id: str, dispatcher: Identity, note: str, env: Env) -> bool:
        """One 并单; False when either petition moved meanwhile (dispatched, merged by hand): left alone."""
        main = self.petitions.get(main_id)
        fresh = self.petitions.get(p.id)
        if main is None or fresh is None:
            return False
        try:
            self.commit(merge_into(fresh, main, dispatcher, {"note": note}, env), env)
            return True
        except FztError:  # Conflict included
            return False

    def _absorb(self, h: dict, env: Env) -> int:
        """并单: every received petition since the window began of the hotspot's grid and category, or
        whose text is a near duplicate (MinHash) of the first petitions of that grid and category."""
        main = self.petitions.get(h["case"]) if h.get("case") else None
        if main is None or main.status in ("merged", "closed"):
            return 0
        t = Thresholds.from_policy()
        _, window_start, _ = windows(env.now.astimezone(SHANGHAI).date(), t)
        lo = utc_key(iso(datetime.combine(window_start, datetime.min.time(), SHANGHAI)))
        hi = utc_key(iso(env.now + timedelta(seconds=1)))
        dispatcher = Identity(
            kind=OPERATOR,
            name=(h.get("case_by") or f"dispatcher@{h['district']}"),
            role="dispatcher",
            district=h["district"],
        )
        candidates = [
            p
            for p in self.petitions.received_between("district", h["district"], lo, hi)
            if p.id != main.id and p.status == "received"
        ]
        same = [
            p
            for p in candidates
            if p.category == h["category"] and (p.location or {}).get("grid") == h["grid"]
        ]
        signatures = list(h.get("signatures") or [])
        signatures += [signature(p.content) for p in same][: max(KEPT_SIGNATURES - len(signatures), 0)]
        similar = [
            p
            for p in candidates
            if p not in same
            and any(resemblance(signature(p.content), s) >= t.near_duplicate for s in signatures)
        ]
        merged = []
        for p in same + similar:
            if self._merge(p, main.id, dispatcher, f"热点{h['id']}并单", env):
                merged.append(p.id)
        if merged or signatures != (h.get("signatures") or []):
            h = self.store.hotspot(h["district"], h["id"]) or h
            h = {**h, "merged": [*h.get("merged", []), *merged], "signatures": signatures}
            if merged:
                h["events"] = [
                    *h["events"],
                    _event("merged", iso(env.now), "system:hotspots", petitions=merged),
                ]
            self.store.save_hotspot(h)
        return len(merged)

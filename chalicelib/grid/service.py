"""The grid network at work (CONTRACT §10), behind the routes of app.py.

- ``locate``: the smallest grid containing a point (geometry.GridIndex over the directory's areas).
- ``file``: a grid worker files for a resident through intake (channel ``grid``), within their
  grid; with ``resolved_on_spot`` the new petition is resolved in the same transaction (pool.py).
- ``visit`` / ``visits``: 敲门行动, one item per visit in the grid table, counted per worker per month.
- ``upload`` / ``check_evidence`` / ``evidence_links``: evidence objects in the export bucket
  under ``evidence/`` — a presigned PUT whose signed headers hold the type and the exact size,
  a record of who asked (the scope check when a key is attached), a HEAD when it is attached
  (the object arrived, with the declared type and size: moto does not check signatures, and a
  client could skip the signed headers' promise on other S3-compatible stores), and
  short-lived presigned GETs for operators who may see the petition.
- ``pool`` / ``stats``: the claim pool of a district and its figures, from the grid table.
"""

from __future__ import annotations

import statistics
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import timedelta
from typing import Any, Protocol

from chalicelib.auth import scope
from chalicelib.auth.identity import Identity
from chalicelib.clock import iso, parse_instant
from chalicelib.errors import Forbidden, InvalidInput, NotFound
from chalicelib.grid import pool as pool_rules
from chalicelib.grid.geometry import index_for
from chalicelib.grid.schemas import GridPetitionIn
from chalicelib.intake.models import PetitionIn
from chalicelib.petitions.domain import Env, Outcome
from chalicelib.privacy import mask_phone

MAX_EVIDENCE_BYTES = 10 * 1024 * 1024
EVIDENCE_TYPES = {"image/jpeg": "jpg", "image/png": "png", "application/pdf": "pdf"}
UPLOAD_SECONDS = 15 * 60  # a presigned PUT is good for 15 minutes
READ_SECONDS = 5 * 60  # a presigned GET for 5: links in a detail view, never stored
SHANGHAI_OFFSET = timedelta(hours=8)


class GridItems(Protocol):
    def pool(self, district: str, status: str | None = None) -> list[dict]: ...
    def put_visit(self, district: str, month: str, sk: str, at: str, doc: dict) -> None: ...
    def visits(self, district: str, month: str) -> Any: ...
    def put_upload(self, key: str, at: str, doc: dict, expires_epoch: int | None = None) -> None: ...
    def upload(self, key: str) -> dict | None: ...
    def stage_pool(
        self, tx: Any, district: str, petition_id: str, status: str, at: str, doc: dict
    ) -> None: ...


class Objects(Protocol):
    def presigned_put(self, key: str, content_type: str, size: int, expires: int) -> str: ...
    def head(self, key: str) -> dict | None: ...
    def presigned_get(self, key: str, expires: int) -> str: ...


class Filing(Protocol):
    def file_for(
        self,
        channel: str,
        who: Identity,
        namespace: str,
        body: PetitionIn,
        idempotency_key: str | None,
        *,
        then: Callable[[Outcome, Env], Outcome] | None = None,
    ) -> tuple[int, dict]: ...


def local_month(instant_iso: str) -> str:
    return (parse_instant(instant_iso) + SHANGHAI_OFFSET).strftime("%Y-%m")


def locate(env: Env, lat: float, lon: float) -> str | None:
    """The smallest grid containing the point (None outside every grid): for intake, too."""
    return index_for(env.directory).locate(lat, lon)


def grid_path(directory, code: str | None) -> list[str]:
    """The grid codes from the top-level grid down to ``code`` (empty for an unknown grid)."""
    path: list[str] = []
    current = directory.grid(code) if code else None
    while current is not None:
        path.append(current.code)
        current = directory.grid(current.parent) if current.parent else None
    return path[::-1]


@dataclass
class GridService:
    store: GridItems
    objects: Objects | None
    intake: Filing
    env: Callable[[], Env]

    # --- geometry and the public board -----------------------------------------------------------

    def locate(self, lat: float, lon: float) -> dict:
        env = self.env()
        code = locate(env, lat, lon)
        grid = env.directory.grid(code) if code else None
        if grid is None:
            raise NotFound("no grid contains this point")
        return {
            "code": grid.code,
            "name": grid.name,
            "district": grid.district,
            "level": grid.level,
            "path": grid_path(env.directory, grid.code),
        }

    def board(self, code: str) -> dict:
        """The public board (§10): the grid, its workers with their photo URL, its 楼栋长 (phones masked)."""
        directory = self.env().directory
        grid = directory.grid(code)
        if grid is None:
            raise NotFound(f"no grid {code!r}", field="code")
        workers = [{k: v for k, v in asdict(w).items() if k != "grid"} for w in directory.workers_of(code)]
        heads = [
            {"name": h.name, "building": h.building, "phone": mask_phone(h.phone)}
            for h in directory.heads_of(code)
        ]
        return {**asdict(grid), "workers": workers, "building_heads": heads}

    # --- filing, on the spot ---------------------------------------------------------------------------

    def file(self, identity: Identity, body: GridPetitionIn, idempotency_key: str | None) -> tuple[int, dict]:
        env = self.env()
        directory = env.directory
        location = body.location.model_dump(exclude_none=True) if body.location else {}
        code = location.get("grid")
        if code is None and location.get("lat") is not None and location.get("lon") is not None:
            code = locate(env, location["lat"], location["lon"])
        code = code or identity.grid
        grid = directory.grid(code or "")
        if grid is None:
            raise InvalidInput(f"unknown grid {code!r}", field="location.grid")
        if identity.grid is None or not directory.grid_covers(identity.grid, grid.code):
            raise Forbidden(f"{grid.code} is not {identity.name}'s grid nor below it", field="location.grid")
        if grid.district != body.district:
            raise Forbidden(
                f"{grid.code} is a grid of {grid.district}, not of {body.district}", field="district"
            )
        on_spot = body.resolved_on_spot
        evidence = list(on_spot.evidence or []) if on_spot else []
        if evidence:
            self.check_evidence(identity, evidence, body.district)
        fields = body.model_dump(exclude={"resolved_on_spot"}, exclude_none=True)
        fields["location"] = {**location, "grid": grid.code}
        fields["reported_by"] = identity.name
        petition = PetitionIn.model_validate(fields)
        then = None
        if on_spot is not None:
            reply = on_spot.reply

            def then(outcome, env_):
                return pool_rules.resolve_on_spot(outcome, identity, reply, evidence, env_)

        return self.intake.file_for("grid", identity, identity.name, petition, idempotency_key, then=then)

    # --- visits (敲门行动) ---------------------------------------------------------------------------

    def visit(self, identity: Identity, body: Any) -> dict:
        env = self.env()
        grid = env.directory.grid(body.grid)
        if grid is None:
            raise InvalidInput(f"unknown grid {body.grid!r}", field="grid")
        if identity.grid is None or not env.directory.grid_covers(identity.grid, grid.code):
            raise Forbidden(f"{grid.code} is not {identity.name}'s grid nor below it", field="grid")
        at = iso(env.now)
        visit_id = uuid.uuid4().hex[:12]
        doc = {
            "id": visit_id,
            "grid": grid.code,
            "worker": identity.name,
            "households": body.households,
            "notes": body.notes,
            "issues": list(body.issues or []),
        }
        self.store.put_visit(grid.district, local_month(at), f"{at}#{visit_id}", at, doc)
        return {**doc, "at": at}

    def visits(self, identity: Identity, grid_code: str, month: str | None) -> dict:
        env = self.env()
        directory = env.directory
        grid = directory.grid(grid_code)
        if grid is None:
            raise InvalidInput(f"unknown grid {grid_code!r}", field="grid")
        if identity.role == "grid_worker":
            if identity.grid is None or not directory.grid_covers(identity.grid, grid.code):
                raise NotFound("outside your grid", field="grid")
        else:
            scope.district(identity, directory, grid.district, field="grid")
        month = month or local_month(iso(env.now))
        items = [
            v
            for v in self.store.visits(grid.district, month)
            if directory.grid_covers(grid.code, v.get("grid"))
        ]
        items.sort(key=lambda v: v["at"], reverse=True)
        return {
            "grid": grid.code,
            "month": month,
            "items": [_visit_out(v) for v in items],
            "per_worker": dict(Counter(v["worker"] for v in items)),
            "households": sum(int(v.get("households") or 0) for v in items),
        }

    # --- evidence ------------------------------------------------------------------------------------------

    def upload(self, identity: Identity, content_type: str, size: int) -> dict:
        if self.objects is None:
            raise InvalidInput("evidence uploads are not configured on this stage", field="content_type")
        env = self.env()
        ext = EVIDENCE_TYPES[content_type]
        day = (env.now + SHANGHAI_OFFSET).strftime("%Y%m%d")
        key = f"evidence/{identity.district}/{day}/{uuid.uuid4().hex}.{ext}"
        doc = {
            "uploader": identity.name,
            "role": identity.role,
            "district": identity.district,
            "content_type": content_type,
            "size": size,
        }
        self.store.put_upload(key, iso(env.now), doc)
        url = self.objects.presigned_put(key, content_type, size, UPLOAD_SECONDS)
        return {
            "evidence": key,
            "url": url,
            "method": "PUT",
            "headers": {"Content-Type": content_type, "Content-Length": str(size)},
            "expires_at": iso(env.now + timedelta(seconds=UPLOAD_SECONDS)),
        }

    def check_evidence(self, identity: Identity, keys: list[str], district: str | None = None) -> None:
        """Each key was issued by POST /v1/uploads to someone of the caller's district (or one above or
        below it), and its object arrived with the declared type and size; else 400 naming it."""
        directory = self.env().directory
        for n, key in enumerate(keys):
            field = f"evidence[{n}]"
            record = self.store.upload(key) if key.startswith("evidence/") else None
            if record is None:
                raise InvalidInput(f"unknown evidence key {key!r} (ask POST /v1/uploads first)", field=field)
            owner = record.get("district") or ""
            mine = identity.district or ""
            related = directory.covers(mine, owner) or directory.covers(owner, mine)
            if district is not None:
                related = related and (directory.covers(owner, district) or directory.covers(district, owner))
            if not related:
                raise InvalidInput(f"evidence {key!r} was not uploaded within your scope", field=field)
            stored = self.objects.head(key) if self.objects is not None else None
            if stored is None:
                raise InvalidInput(f"evidence {key!r} has not been uploaded yet", field=field)
            if stored["content_type"] != record.get("content_type") or stored["size"] != record.get("size"):
                raise InvalidInput(
                    f"evidence {key!r} is not what was declared "
                    f"({record.get('content_type')}, {record.get('size')} bytes)",
                    field=field,
                )
            if stored["size"] > MAX_EVIDENCE_BYTES:
                raise InvalidInput(f"evidence {key!r} is larger than 10 MB", field=field)

    def evidence_links(self, keys: list[str]) -> list[dict]:
        """Short-lived read links (the detail view's ``evidence``), never public, never stored."""
        if self.objects is None:
            return [{"key": k, "url": None} for k in keys]
        expires = iso(self.env().now + timedelta(seconds=READ_SECONDS))
        out = []
        for key in keys:
            record = self.store.upload(key) or {}
            out.append(
                {
                    "key": key,
                    "url": self.objects.presigned_get(key, READ_SECONDS),
                    "content_type": record.get("content_type"),
                    "expires_at": expires,
                }
            )
        return out

    # --- the claim pool (基层吹哨、部门报到) -----------------------------------------------------------

    def pool(self, identity: Identity, district: str | None) -> dict:
        env = self.env()
        codes = scope.districts(identity, env.directory, district)
        if identity.role == "handler":
            codes = [c for c in codes if c == identity.district]
        items = []
        for code in codes:
            for item in self.store.pool(code, "open"):
                due = item.get("claim_due")
                left = int((parse_instant(due) - env.now).total_seconds()) if due else 0
                items.append(
                    {
                        "id": item["id"],
                        "district": code,
                        "grid": item.get("grid"),
                        "title": item.get("title"),
                        "category": item.get("category"),
                        "posted_at": item["at"],
                        "posted_by": item.get("posted_by", ""),
                        "note": item.get("note"),
                        "claim_due": due or "",
                        "seconds_left": left,
                    }
                )
        items.sort(key=lambda i: i["claim_due"])
        return {"items": items}

    def stats(self, identity: Identity, query: Any) -> dict:
        """Visits per worker, and the pool's claim times (median, p90, in the claim stage's unit:
        working seconds for normal petitions) and fallbacks, over items posted in [from, to]."""
        env = self.env()
        directory = env.directory
        district = scope.district(identity, directory, query.district or identity.district or directory.city)
        today = (env.now + SHANGHAI_OFFSET).date()
        to = query.to or today.isoformat()
        frm = query.from_ or (today.replace(day=1)).isoformat()
        if frm > to:
            raise InvalidInput("from is after to", field="from")
        covered = [d.code for d in directory.districts if directory.covers(district, d.code)]
        visits: list[dict] = []
        items: list[dict] = []
        for code in covered:
            for month in _months(frm, to):
                visits += [v for v in self.store.visits(code, month) if frm <= _local_day(v["at"]) <= to]
            items += [i for i in self.store.pool(code) if frm <= _local_day(i["at"]) <= to]
        claimed = [i for i in items if i["status"] == "claimed"]
        seconds = sorted(float(i.get("claim_seconds") or 0) for i in claimed)
        return {
            "district": district,
            "from": frm,
            "to": to,
            "visits": len(visits),
            "households": sum(int(v.get("households") or 0) for v in visits),
            "visits_per_worker": dict(sorted(Counter(v["worker"] for v in visits).items())),
            "posted": len(items),
            "claimed": len(claimed),
            "fallbacks": sum(1 for i in items if i["status"] == "fallback"),
            "open": sum(1 for i in items if i["status"] == "open"),
            "claim_seconds_median": statistics.median(seconds) if seconds else None,
            "claim_seconds_p90": _percentile(seconds, 0.9),
        }


def _visit_out(v: dict) -> dict:
    return {k: v.get(k) for k in ("id", "grid", "worker", "households", "notes", "issues", "at")}


def _local_day(instant_iso: str) -> str:
    return (parse_instant(instant_iso) + SHANGHAI_OFFSET).date().isoformat()


def _months(frm: str, to: str) -> list[str]:
    y, m = int(frm[:4]), int(frm[5:7])
    last = (int(to[:4]), int(to[5:7]))
    out: list[str] = []
    while (y, m) <= last and len(out) < 25:
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def _percentile(sorted_values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (the value at rank ceil(q·n)), None for no values."""
    if not sorted_values:
        return None
    import math

    return sorted_values[max(math.ceil(q * len(sorted_values)) - 1, 0)]

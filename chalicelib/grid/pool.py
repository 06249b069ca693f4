"""Pure rules of the grid feature: the on-the-spot resolution of a new petition, and the claim
pool's items as the petition's events imply them.

- ``resolve_on_spot``: a grid worker's filing that is resolved where it was filed (小事不出网格):
  the new petition's ``created`` event is followed by ``resolved_on_spot`` in the same outcome
  (one transaction), status ``resolved``, its dispatch clock stopped in time; review and the
  rating SMS follow as for any resolution. Reviewed back (or rated dissatisfied) it has no
  department, so it goes to dispatch like a desk's on-the-spot answer.
- ``pool_writes``: ``whistled`` puts an ``open`` item in the district's pool; ``claimed`` and
  ``fallback_assigned`` close it (conditional on it being ``open``: a second claim fails whole).
"""

from __future__ import annotations

from dataclasses import replace

from chalicelib.clock import iso
from chalicelib.petitions.domain import Env, Outcome, Petition
from chalicelib.timing import stage as stage_clock


def resolve_on_spot(outcome: Outcome, identity, reply: str, evidence: list[str], env: Env) -> Outcome:
    p = outcome.petition
    stage = stage_clock.pause(env.calendar, p.stage, env.now) if p.stage else None
    resolved = replace(
        p, status="resolved", reply=reply, answered_by=identity.actor, stage=stage, updated_at=iso(env.now)
    )
    event = {
        "type": "resolved_on_spot",
        "at": iso(env.now),
        "actor": identity.actor,
        "reply": reply,
        "grid": (p.location or {}).get("grid"),
        "stage": "dispatch",
        "stage_due_at": p.stage.due_at if p.stage else None,
        "on_time": True,
    }
    if evidence:
        event["evidence"] = list(evidence)
    return replace(outcome, petition=resolved, events=[*outcome.events, event])


def pool_writes(p: Petition, events: list[dict]) -> list[tuple[str, str, dict]]:
    """(status, at, doc) of the pool item each pool event of a change implies, in order."""
    writes = []
    for e in events:
        if e["type"] == "whistled":
            doc = {
                "id": p.id,
                "district": p.district,
                "grid": e.get("grid"),
                "title": e.get("title"),
                "category": e.get("category"),
                "claim_due": e.get("claim_due"),
                "posted_by": e["actor"],
                "note": e.get("note"),
            }
            writes.append(("open", e["at"], doc))
        elif e["type"] in ("claimed", "fallback_assigned"):
            posted_at = e.get("posted_at") or e["at"]
            doc = {
                "id": p.id,
                "district": p.district,
                "grid": (p.location or {}).get("grid"),
                "title": p.title,
                "category": p.category,
                "department": e.get("department"),
                "closed_at": e["at"],
                "claim_seconds": e.get("claim_seconds"),
            }
            writes.append(("claimed" if e["type"] == "claimed" else "fallback", posted_at, doc))
    return writes

"""Pure: the supervision records a petition change's events imply, written in its transaction.

- a chief's board (首席办事员): key cases they flagged (疑难/重点), cases escalated to them, and
  their instructions (批示) — each entry points at the petition, whose current state the board
  reads when it is shown;
- urges (催办单/督办单) per unit, counted in the annual assessment.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from chalicelib.clock import utc_key


@dataclass(frozen=True)
class Record:
    """One supervision item (see store.py for the kinds): partition, sort key and document."""

    pk: str
    sk: str
    doc: dict[str, Any]


def holder(p: Any) -> str:
    """Who answers for the petition now: its department, or the district's dispatch desk."""
    return p.department or f"{p.district}.dispatch"


def plan_records(p: Any, events: Iterable[Mapping[str, Any]]) -> list[Record]:
    out: list[Record] = []
    for e in events:
        kind, seq, at = e.get("type"), e.get("seq"), e.get("at", "")
        base = {"petition": p.id, "district": p.district, "at": at}
        if kind == "flagged":
            out.append(
                Record(
                    f"board#{e['actor']}",
                    f"key#{p.id}",
                    {**base, "key_case": bool(e.get("key_case")), "note": e.get("note")},
                )
            )
        elif kind == "instruction":
            out.append(
                Record(
                    f"board#{e['actor']}",
                    f"instruction#{p.id}#{seq}",
                    {**base, "note": e.get("note"), "to": e.get("to")},
                )
            )
        elif kind == "escalated" and e.get("chief"):
            out.append(
                Record(
                    f"board#{e['chief']}",
                    f"escalation#{p.id}#{seq}",
                    {**base, "level": e.get("level"), "reason": e.get("reason") or e.get("step")},
                )
            )
        elif kind == "urged":
            unit = e.get("to") or holder(p)
            out.append(
                Record(
                    f"urge#{unit}",
                    f"{utc_key(at)}#{p.id}#{seq}",
                    {
                        **base,
                        "kind": e.get("kind"),
                        "note": e.get("note"),
                        "by": e.get("actor"),
                        "unit": unit,
                    },
                )
            )
    return out

"""How a petition reads on the wire: masked for operators, in clear only for the owning channel."""

from __future__ import annotations

from typing import Any

from chalicelib.petitions.domain import Env, Petition
from chalicelib.petitions.machine import STATUS_LABELS
from chalicelib.privacy import unseal
from chalicelib.timing import stage as stage_clock

HIDDEN_EVENT_FIELDS = ("prev_hash", "hash")


def _citizen(p: Petition, owner: bool) -> dict | None:
    c = p.contact
    if not c:
        return None
    if owner:
        return {
            "name": unseal(c["name_sealed"]) if c.get("name_sealed") else None,
            "phone": unseal(c["phone_sealed"]) if c.get("phone_sealed") else None,
        }
    return {"name": c.get("name_masked"), "phone": c.get("phone_masked")}


def petition(p: Petition, identity, env: Env, events: list[dict] | None = None) -> dict:
    owner = identity is not None and identity.is_channel and identity.name == p.channel
    stage = p.stage
    fraction = env.policy.reminder_fraction(p.district, p.priority)
    out: dict[str, Any] = {
        "id": p.id,
        "status": p.status,
        "status_label": STATUS_LABELS[p.status],
        "channel": p.channel,
        "district": p.district,
        "department": p.department,
        "co_departments": list(p.co_departments),
        "first_owner": p.first_owner,
        "first_inquiry": p.first_inquiry,
        "answered_by": p.answered_by,
        "category": p.category,
        "priority": p.priority,
        "title": p.title,
        "content": p.content,
        "anonymous": p.anonymous,
        "citizen": _citizen(p, owner),
        "location": p.location,
        "channel_ref": p.channel_ref if owner or not (identity and identity.is_channel) else None,
        "reported_by": p.reported_by,
        "created_at": p.created_at,
        "updated_at": p.updated_at,
        "stage": (
            {
                "name": stage.name,
                "due_at": stage.due_at,
                "running": stage.running,
                "provisional": stage.provisional,
            }
            if stage
            else None
        ),
        "due_at": stage.due_at if stage else None,
        "sla_state": stage_clock.sla_state(env.calendar, stage, env.now, fraction),
        "escalation_level": p.escalation_level,
        "key_case": p.key_case,
        "deadlines": {stage.name: stage.due_at} if stage and stage.due_at else {},
        "returns": p.returns,
        "reopens": p.reopens,
        "merged_into": p.merged_into,
        "merged": list(p.merged),
        "extension_pending": p.extension_pending,
        "awaiting_feedback": p.awaiting_feedback,
        "rating": p.rating,
        "reply": p.reply,
    }
    if events is not None:
        out["timeline"] = [{k: v for k, v in e.items() if k not in HIDDEN_EVENT_FIELDS} for e in events]
    return out


PUBLIC_EVENTS = (
    "created",
    "dispatched",
    "accepted",
    "transferred",
    "returned",
    "suspended",
    "resumed",
    "resolved",
    "review_approved",
    "review_rejected",
    "feedback",
    "reopened",
    "merged",
)


def public(p: Petition, events: list[dict]) -> dict:
    """What anyone holding the id and the phone tail may see: no personal data, no operator names."""
    return {
        "id": p.id,
        "status": p.status,
        "status_label": STATUS_LABELS[p.status],
        "created_at": p.created_at,
        "updated_at": p.updated_at,
        "stage": p.stage.name if p.stage else None,
        "due_at": p.stage.due_at if p.stage else None,
        "merged_into": p.merged_into,
        "reply": p.reply if p.status == "closed" else None,
        "timeline": [{"type": e["type"], "at": e["at"]} for e in events if e["type"] in PUBLIC_EVENTS],
    }

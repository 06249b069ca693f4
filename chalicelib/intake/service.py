"""Creating a petition from a channel: validate against the directory, deduplicate, commit once.

Idempotency, in the same transaction as the petition (no extra round trip):
- with an ``Idempotency-Key``: the item ``<channel>#key#<key>`` (kept 24 h) stores the
  body's hash and the petition id. A retry with the same body gets the same petition
  (200); another body under the same key gets 409.
- without one: the item ``<channel>#auto#<hash of the body>`` lives 120 s, so a
  double-click (the very same body from the same channel within two minutes) returns
  the first petition instead of creating a second. Different bodies never collide.
"""

from __future__ import annotations

import hashlib
import json

from chalicelib.errors import Conflict, InvalidInput
from chalicelib.intake.ids import new_tracking_id
from chalicelib.intake.models import PetitionIn
from chalicelib.notify import publisher
from chalicelib.petitions import present, repository
from chalicelib.petitions.domain import new_petition
from chalicelib.petitions.env import current_env
from chalicelib.petitions.models import IdempotencyItem
from chalicelib.privacy import mask_name, mask_phone, phone_hash, seal

KEYED_TTL = 24 * 3600
DOUBLE_CLICK_WINDOW = 120
MAX_ID_DRAWS = 4


def body_hash(body: PetitionIn) -> str:
    canonical = json.dumps(
        body.model_dump(mode="json"), sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _check_directory(body: PetitionIn, identity, directory) -> None:
    if directory.district(body.district) is None:
        raise InvalidInput(f"unknown district {body.district!r}", field="district")
    if body.category is not None and directory.category(body.category) is None:
        raise InvalidInput(f"unknown category {body.category!r}", field="category")
    phone = body.citizen.phone if body.citizen else None
    if not body.anonymous and not phone:
        raise InvalidInput("citizen.phone is required unless anonymous is true", field="citizen.phone")
    if body.location and body.location.grid:
        grid = directory.grid(body.location.grid)
        if grid is None or grid.district != body.district:
            raise InvalidInput(
                f"unknown grid {body.location.grid!r} in {body.district}", field="location.grid"
            )
    if identity.name == "grid":
        if not body.reported_by:
            raise InvalidInput("grid submissions name the grid worker (reported_by)", field="reported_by")
    if body.reported_by is not None:
        worker = directory.grid_worker(body.reported_by)
        if worker is None:
            raise InvalidInput(f"unknown grid worker {body.reported_by!r}", field="reported_by")


def _contact(body: PetitionIn) -> dict:
    contact: dict = {}
    citizen = body.citizen
    if citizen and citizen.phone:
        national = citizen.phone.removeprefix("+86")
        contact.update(
            phone_hash=phone_hash(citizen.phone),
            phone_masked=mask_phone(national),
            phone_sealed=seal(citizen.phone),
            phone_tail=national[-4:],
        )
    if citizen and citizen.name and not body.anonymous:
        contact.update(name_masked=mask_name(citizen.name), name_sealed=seal(citizen.name))
    return contact


def create(identity, body: PetitionIn, idempotency_key: str | None) -> tuple[int, dict]:
    env = current_env()
    _check_directory(body, identity, env.directory)
    digest = body_hash(body)
    epoch = int(env.now.timestamp())
    if idempotency_key:
        key = f"{identity.name}#key#{idempotency_key}"
        ttl = KEYED_TTL
        condition = IdempotencyItem.key.does_not_exist()
    else:
        key = f"{identity.name}#auto#{digest}"
        ttl = DOUBLE_CLICK_WINDOW
        condition = IdempotencyItem.key.does_not_exist() | (IdempotencyItem.expires_epoch < epoch)
    location = body.location.model_dump(exclude_none=True) if body.location else None
    for _ in range(MAX_ID_DRAWS):
        petition_id = new_tracking_id(env.now)
        outcome = new_petition(
            id=petition_id,
            channel=identity.name,
            district=body.district,
            content=body.content,
            env=env,
            identity=identity,
            priority=body.priority,
            title=body.title,
            category=body.category,
            anonymous=body.anonymous,
            contact=_contact(body),
            location=location or None,
            channel_ref=body.channel_ref,
            reported_by=body.reported_by,
        )
        item = IdempotencyItem(key=key, body_hash=digest, petition_id=petition_id, expires_epoch=epoch + ttl)
        try:
            stored = repository.commit(
                outcome, env, idempotency=item, idempotency_condition=condition, new=True
            )
        except repository.IdClash:
            continue
        except repository.IdempotencyClash:
            return _replay(key, digest, identity, env)
        publisher.after_commit(outcome, env)
        return 201, present.petition(stored, identity, env)
    raise Conflict("could not draw a free tracking number; retry", code="conflict")


def _replay(key: str, digest: str, identity, env) -> tuple[int, dict]:
    previous = IdempotencyItem.get(key, consistent_read=True)
    if previous.body_hash != digest:
        raise Conflict(
            "this Idempotency-Key was used with another body",
            field="Idempotency-Key",
            code="idempotency_key_reused",
        )
    petition = repository.get(previous.petition_id)
    if petition is None:  # cannot happen: both were written in one transaction
        raise Conflict("the original petition is missing", code="conflict")
    return 200, present.petition(petition, identity, env)

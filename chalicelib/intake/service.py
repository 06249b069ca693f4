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
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from chalicelib.auth.identity import Identity
from chalicelib.directory.model import Directory
from chalicelib.errors import Conflict, Forbidden, InvalidInput, TransactionConflict
from chalicelib.intake.idempotency_store import LABEL as IDEMPOTENCY
from chalicelib.intake.idempotency_store import Claim
from chalicelib.intake.models import PetitionIn
from chalicelib.petitions import present
from chalicelib.petitions.domain import Env, Outcome, Petition, new_petition
from chalicelib.petitions.ids import new_tracking_id
from chalicelib.petitions.ports import Committer
from chalicelib.privacy import mask_name, mask_phone, phone_hash, seal

KEYED_TTL = 24 * 3600
DOUBLE_CLICK_WINDOW = 120
MAX_ID_DRAWS = 4


class IdempotencyKeys(Protocol):
    def stage(self, tx: Any, claim: Claim, *, reusable_after: int | None) -> None: ...
    def get(self, key: str) -> Claim | None: ...


class PetitionReads(Protocol):
    def get(self, petition_id: str) -> Petition | None: ...


def body_hash(body: PetitionIn) -> str:
    canonical = json.dumps(
        body.model_dump(mode="json"), sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _check_directory(body: PetitionIn, channel: str, directory: Directory) -> None:
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
    if channel == "grid":
        if not body.reported_by:
            raise InvalidInput("grid submissions name the grid worker (reported_by)", field="reported_by")
    if body.reported_by is not None:
        worker = directory.grid_worker(body.reported_by)
        user = directory.user(body.reported_by)  # a grid worker signed in as an operator (§10)
        if worker is None and (user is None or user.role != "grid_worker"):
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


@dataclass
class Intake:
    keys: IdempotencyKeys
    petitions: PetitionReads
    uow: Committer
    env: Callable[[], Env]
    # The grid a point lies in (§10: a petition with a point and no grid gets its grid at intake).
    locate: Callable[[Env, float, float], str | None] | None = None

    def create(self, identity: Identity, body: PetitionIn, idempotency_key: str | None) -> tuple[int, dict]:
        """A channel's submission; its first-inquiry unit is the channel's own (or the district's center)."""
        env = self.env()
        return self._create(identity, identity.name, identity.name, body, idempotency_key, env)

    def register(self, desk: Identity, body: PetitionIn, idempotency_key: str | None) -> tuple[int, dict]:
        """首接首办: a window clerk or a 12345 agent registers what a citizen brought; their unit
        and they themselves are its first-inquiry party to the end."""
        env = self.env()
        unit = env.directory.department(desk.department or "")
        if unit is None or not env.directory.covers(unit.district, body.district):
            raise Forbidden(f"{desk.name} does not receive petitions for {body.district}", field="district")
        channel = "hotline_12345" if (desk.department or "").endswith(".hotline") else "walkin"
        first = {"unit": unit.code, "user": desk.name}
        return self._create(desk, channel, desk.name, body, idempotency_key, env, first_inquiry=first)

    def file_for(
        self,
        channel: str,
        who: Identity,
        namespace: str,
        body: PetitionIn,
        idempotency_key: str | None,
        *,
        link: Callable[[str], Iterable[Any]] | None = None,
        then: Callable[[Outcome, Env], Outcome] | None = None,
    ) -> tuple[int, dict]:
        """A submission on behalf of ``who`` through ``channel`` (the citizen's own page: wechat;
        a 逢六说事 meeting: ``link`` stages the meeting's new issue list into the same transaction;
        a grid worker's on-the-spot resolution: ``then`` changes the new petition before the commit)."""
        return self._create(who, channel, namespace, body, idempotency_key, self.env(), link=link, then=then)

    def _create(
        self,
        identity: Identity,
        channel: str,
        namespace: str,
        body: PetitionIn,
        idempotency_key: str | None,
        env: Env,
        *,
        first_inquiry: dict | None = None,
        link: Callable[[str], Iterable[Any]] | None = None,
        then: Callable[[Outcome, Env], Outcome] | None = None,
    ) -> tuple[int, dict]:
        _check_directory(body, channel, env.directory)
        if first_inquiry is None:
            record = env.directory.channel(channel)
            unit = (record.unit if record else None) or f"{body.district}.center"
            first_inquiry = {"unit": unit, "user": f"channel:{channel}"}
        digest = body_hash(body)
        epoch = int(env.now.timestamp())
        # DynamoDB's TTL deletes expired items lazily (up to days later): the condition itself lets
        # an expired key be taken again, so a key means something for exactly its window.
        if idempotency_key:
            key, ttl = f"{namespace}#key#{idempotency_key}", KEYED_TTL
        else:
            key, ttl = f"{namespace}#auto#{digest}", DOUBLE_CLICK_WINDOW
        reusable_after = epoch
        location = body.location.model_dump(exclude_none=True) if body.location else None
        located = self._locate(location, body.district, env)
        for _ in range(MAX_ID_DRAWS):
            petition_id = new_tracking_id(env.now)
            outcome = new_petition(
                id=petition_id,
                channel=channel,
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
                first_inquiry=first_inquiry,
            )
            if located:
                outcome.events[0]["grid_located"] = True  # found from the point (on the timeline)
            if then is not None:
                outcome = then(outcome, env)
            claim = Claim(key=key, body_hash=digest, petition_id=petition_id, expires_epoch=epoch + ttl)
            try:
                stored = self.uow.commit(
                    outcome,
                    env,
                    new=True,
                    extra=[
                        lambda tx, c=claim: self.keys.stage(tx, c, reusable_after=reusable_after),
                        *(link(petition_id) if link else ()),
                    ],
                )
            except TransactionConflict as clash:
                if IDEMPOTENCY in clash.labels:
                    return self._replay(key, digest, identity, env)
                continue  # the tracking number is taken (a one-in-hundreds-of-millions draw): draw again
            return 201, present.petition(stored, identity, env)
        raise Conflict("could not draw a free tracking number; retry", code="conflict")

    def _locate(self, location: dict | None, district: str, env: Env) -> bool:
        """Fills in the grid of a point that came without one (a grid of the petition's district)."""
        if self.locate is None or not location or location.get("grid"):
            return False
        lat, lon = location.get("lat"), location.get("lon")
        if lat is None or lon is None:
            return False
        code = self.locate(env, lat, lon)
        grid = env.directory.grid(code) if code else None
        if grid is None or grid.district != district:
            return False
        location["grid"] = code
        return True

    def _replay(self, key: str, digest: str, identity: Identity, env: Env) -> tuple[int, dict]:
        previous = self.keys.get(key)
        if previous is None:  # expired between the clash and this read: the caller may retry
            raise Conflict("the earlier request with this key is gone; retry", code="conflict")
        if previous.body_hash != digest:
            raise Conflict(
                "this Idempotency-Key was used with another body",
                field="Idempotency-Key",
                code="idempotency_key_reused",
            )
        petition = self.petitions.get(previous.petition_id)
        if petition is None:  # cannot happen: both were written in one transaction
            raise Conflict("the original petition is missing", code="conflict")
        return 200, present.petition(petition, identity, env)

"""The idempotency table: a channel's retry key (or a double-click's body hash) → the petition.

Written in the same transaction as the petition it names, with a condition: the key must
be new (keyed retries), or new or expired (the double-click window)."""

from __future__ import annotations

from dataclasses import dataclass

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.models import Model

from chalicelib import db

LABEL = "idempotency"


@db.table("table_idempotency")
class IdempotencyItem(Model):
    class Meta:
        table_name = "fzt-idempotency"

    key = UnicodeAttribute(hash_key=True)
    body_hash = UnicodeAttribute()
    petition_id = UnicodeAttribute()
    expires_epoch = NumberAttribute()


@dataclass(frozen=True)
class Claim:
    key: str
    body_hash: str
    petition_id: str
    expires_epoch: int


class IdempotencyStore:
    def stage(self, tx: db.DynamoTransaction, claim: Claim, *, reusable_after: int | None) -> None:
        """The key must be new; with ``reusable_after`` (epoch seconds) an expired one may be taken."""
        condition = IdempotencyItem.key.does_not_exist()
        if reusable_after is not None:
            condition = condition | (IdempotencyItem.expires_epoch < reusable_after)
        item = IdempotencyItem(
            key=claim.key,
            body_hash=claim.body_hash,
            petition_id=claim.petition_id,
            expires_epoch=claim.expires_epoch,
        )
        tx.save(LABEL, item, condition)

    def get(self, key: str) -> Claim | None:
        db.bound()
        try:
            i = IdempotencyItem.get(key, consistent_read=True)
        except IdempotencyItem.DoesNotExist:
            return None
        return Claim(i.key, i.body_hash, i.petition_id, int(i.expires_epoch))

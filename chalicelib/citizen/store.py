"""The citizen table: each phone's current sign-in code (hashed) and its sending rate.

Keyed by the phone's keyed hash, never the number. Items expire by TTL a day after their
last use; every rule that matters (5 minutes, 5 tries, the rates) is checked on read."""

from __future__ import annotations

from typing import cast

from pynamodb.attributes import BooleanAttribute, ListAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import PutError
from pynamodb.models import Model

from chalicelib import db
from chalicelib.citizen.otp import Code, Rate

KEEP_SECONDS = 86400


@db.table("table_citizen")
class CitizenItem(Model):
    class Meta:
        table_name = "fzt-citizen"

    pk = UnicodeAttribute(hash_key=True)  # "otp#<phone hash>"
    sk = UnicodeAttribute(range_key=True)  # "code" | "rate"
    code_hash = UnicodeAttribute(null=True)
    issued_epoch = NumberAttribute(null=True)
    tries = NumberAttribute(null=True)
    used = BooleanAttribute(null=True)
    issued = ListAttribute(of=NumberAttribute, null=True)
    version = NumberAttribute(null=True)
    expires_epoch = NumberAttribute()


def _pk(phone_hash: str) -> str:
    return f"otp#{phone_hash}"


class CitizenStore:
    def rate(self, phone_hash: str) -> Rate:
        db.bound()
        try:
            item = CitizenItem.get(_pk(phone_hash), "rate", consistent_read=True)
        except CitizenItem.DoesNotExist:
            return Rate()
        issued = cast(list[float], item.issued or [])
        return Rate(issued=[int(t) for t in issued], version=int(item.version or 0))

    def code(self, phone_hash: str) -> Code | None:
        db.bound()
        try:
            item = CitizenItem.get(_pk(phone_hash), "code", consistent_read=True)
        except CitizenItem.DoesNotExist:
            return None
        return Code(item.code_hash or "", int(item.issued_epoch or 0), int(item.tries or 0), bool(item.used))

    def stage_issue(
        self, tx: db.DynamoTransaction, phone_hash: str, rate: Rate, code: Code, now: int
    ) -> None:
        """The new rate (conditional on the version read: of two racing requests one sends) and the code."""
        pk = _pk(phone_hash)
        condition = CitizenItem.version == rate.version if rate.version else CitizenItem.pk.does_not_exist()
        tx.save(
            "rate",
            CitizenItem(
                pk=pk,
                sk="rate",
                issued=rate.issued,
                version=rate.version + 1,
                expires_epoch=now + KEEP_SECONDS,
            ),
            condition,
        )
        tx.save(
            "code",
            CitizenItem(
                pk=pk,
                sk="code",
                code_hash=code.hash,
                issued_epoch=code.issued_epoch,
                tries=0,
                used=False,
                expires_epoch=now + KEEP_SECONDS,
            ),
        )

    def record_try(self, phone_hash: str, code: Code, *, used: bool, now: int) -> bool:
        """One try counted (and, when right, the code used up), if nobody else tried meanwhile."""
        db.bound()
        item = CitizenItem(
            pk=_pk(phone_hash),
            sk="code",
            code_hash=code.hash,
            issued_epoch=code.issued_epoch,
            tries=code.tries + 1,
            used=used,
            expires_epoch=now + KEEP_SECONDS,
        )
        try:
            item.save(
                condition=(CitizenItem.tries == code.tries)
                & (CitizenItem.issued_epoch == code.issued_epoch)
                & (CitizenItem.used == False)  # noqa: E712 - a PynamoDB condition, not a comparison
            )
            return True
        except PutError:
            return False

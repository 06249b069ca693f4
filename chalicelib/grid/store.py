"""The grid feature's table and its evidence objects: claim-pool items, door-knock visits, uploads.

One DynamoDB table (``pk``, ``sk``), three kinds of item:

* ``pool#<district>`` / ``<petition id>`` — a whistled petition (基层吹哨): ``open`` until claimed
  (``claimed``) or handed to the center (``fallback``). Written by the unit of work in the
  petition's own transaction; the claim is conditional on the item being ``open``, so of two
  racing claims one commits and the other fails whole (409).
* ``visits#<district>#<YYYY-MM>`` / ``<at>#<id>`` — a 敲门行动 visit (grid, worker, households…).
* ``upload#<key>`` / ``meta`` — who asked to upload an evidence object, its declared type and size.

And the evidence objects themselves, in the export bucket under ``evidence/``: presigned POSTs
for uploads (type and size held by the signed policy), a HEAD to check one arrived, and
short-lived presigned GETs to read.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import DoesNotExist
from pynamodb.models import Model

from chalicelib import db

POOL = "pool"
VISIT = "visit"
UPLOAD = "upload"


@db.table("table_grid")
class GridItem(Model):
    class Meta:
        table_name = "fzt-grid"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    status = UnicodeAttribute(null=True)  # pool items: open | claimed | fallback
    at = UnicodeAttribute(null=True)  # posted (pool), visited (visits), asked (uploads)
    doc = db.CompactJSON(null=True)
    expires_epoch = NumberAttribute(null=True)


def pool_pk(district: str) -> str:
    return f"pool#{district}"


def visits_pk(district: str, month: str) -> str:
    return f"visits#{district}#{month}"


def upload_pk(key: str) -> str:
    return f"upload#{key}"


def _out(item: GridItem) -> dict:
    return {**(item.doc or {}), "status": item.status, "at": item.at}


class GridStore:
    # --- the claim pool ------------------------------------------------------------------------------

    def stage_pool(
        self, tx: db.DynamoTransaction, district: str, petition_id: str, status: str, at: str, doc: dict
    ) -> None:
        """A pool item: a new ``open`` one must not exist yet; leaving ``open`` requires it ``open``."""
        item = GridItem(pk=pool_pk(district), sk=petition_id, status=status, at=at, doc=doc)
        condition = GridItem.pk.does_not_exist() if status == "open" else GridItem.status == "open"
        tx.save(POOL, item, condition)

    def pool(self, district: str, status: str | None = None) -> list[dict]:
        db.bound()
        condition = GridItem.status == status if status else None
        return [
            _out(i)
            for i in GridItem.query(pool_pk(district), filter_condition=condition, consistent_read=True)
        ]

    # --- visits ------------------------------------------------------------------------------------------

    def put_visit(self, district: str, month: str, sk: str, at: str, doc: dict) -> None:
        db.bound()
        GridItem(pk=visits_pk(district, month), sk=sk, at=at, doc=doc).save(GridItem.pk.does_not_exist())

    def visits(self, district: str, month: str) -> Iterator[dict]:
        db.bound()
        for item in GridItem.query(visits_pk(district, month), consistent_read=True):
            yield _out(item)

    # --- uploads ------------------------------------------------------------------------------------------

    def put_upload(self, key: str, at: str, doc: dict, expires_epoch: int | None = None) -> None:
        db.bound()
        GridItem(pk=upload_pk(key), sk="meta", at=at, doc=doc, expires_epoch=expires_epoch).save(
            GridItem.pk.does_not_exist()
        )

    def upload(self, key: str) -> dict | None:
        db.bound()
        try:
            return _out(GridItem.get(upload_pk(key), "meta", consistent_read=True))
        except DoesNotExist:
            return None


class EvidenceBucket:
    """The evidence objects in S3 (the export bucket, prefix ``evidence/``)."""

    def __init__(self, bucket: str, client: Any = None) -> None:
        self.bucket = bucket
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            from chalicelib import aws

            self._client = aws.client("s3")
        return self._client

    def presigned_post(self, key: str, content_type: str, max_size: int, expires: int) -> dict:
        """A browser form upload whose signed policy holds the key, the type and the size range."""
        return self.client.generate_presigned_post(
            Bucket=self.bucket,
            Key=key,
            Fields={"Content-Type": content_type},
            Conditions=[
                {"Content-Type": content_type},
                ["content-length-range", 1, max_size],
            ],
            ExpiresIn=expires,
        )

    def presigned_put(self, key: str, content_type: str, size: int, expires: int) -> str:
        """A PUT URL with the type and length among its signed headers."""
        return self.client.generate_presigned_url(
            "put_object",
            Params={"Bucket": self.bucket, "Key": key, "ContentType": content_type, "ContentLength": size},
            ExpiresIn=expires,
        )

    def head(self, key: str) -> dict | None:
        """The stored object's type and size, or None when nothing was uploaded under the key."""
        from botocore.exceptions import ClientError

        try:
            r = self.client.head_object(Bucket=self.bucket, Key=key)
        except ClientError:
            return None
        return {"content_type": r.get("ContentType"), "size": int(r.get("ContentLength", 0))}

    def presigned_get(self, key: str, expires: int) -> str:
        return self.client.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": key}, ExpiresIn=expires
        )

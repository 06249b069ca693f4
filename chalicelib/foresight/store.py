"""The foresight table (``fzt-foresight``): one table, partitioned by what an item is.

- ``cases`` / ``<petition>``: a typical case (典型案例), anonymised when marked.
- ``rcpt#<shard>`` / ``<phone hash>#<district>``: a phone that used the platform, written in the
  transaction that creates its petition (so no broadcast needs a Scan of the petitions); the
  shard spreads 1.58 million recipients over partitions a broadcast reads one after another.
- ``optout#<phone hash>`` / ``optout``: the phone replied TD (退订).
- ``broadcasts`` / ``<id>``: a publicity broadcast, its cursor and its counts (versioned).
- ``bc#<id>`` / ``<phone hash>``: one phone's delivery of one broadcast — claimed with a
  conditional put before the send, so no phone is sent a broadcast twice, even after a crash.
- ``hotspots#<district>`` / ``<id>``: a hotspot and its lifecycle; ``hsopen#…`` keeps one open
  hotspot per (district, grid, category).

Nothing deletes: a withdrawn case or a cooled hotspot keeps its item with another status.
"""

from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import PutError, UpdateError
from pynamodb.models import Model

from chalicelib import db

SHARDS = 32


@db.table("table_foresight")
class ForesightItem(Model):
    class Meta:
        table_name = "fzt-foresight"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    data = db.CompactJSON(null=True)
    district = UnicodeAttribute(null=True)  # recipients: filtered by district in a broadcast's query
    phone_sealed = UnicodeAttribute(null=True)  # recipients: AES-GCM sealed (chalicelib.privacy)
    status = UnicodeAttribute(null=True)
    version = NumberAttribute(null=True)


def recipient_shard(phone_hash: str) -> int:
    return db.shard_of(phone_hash, SHARDS)


class ForesightStore:
    shards = SHARDS

    # --- recipients (written with the petition that brings the phone) --------------------------------------

    def stage_recipient(
        self, tx: db.DynamoTransaction, phone_hash: str, phone_sealed: str, district: str
    ) -> None:
        """Unconditional: the same phone and district written again is the same item."""
        item = ForesightItem(
            pk=f"rcpt#{recipient_shard(phone_hash):02d}",
            sk=f"{phone_hash}#{district}",
            district=district,
            phone_sealed=phone_sealed,
        )
        tx.save("recipient", item)

    def recipients(
        self, shard: int, after: str | None, limit: int, district: str | None
    ) -> tuple[list[tuple[str, str, str]], str | None]:
        """A page of (sk, phone hash, sealed phone) of one shard in key order after ``after``;
        the second value is the key to continue after (None: the shard is done)."""
        db.bound()
        rows = ForesightItem.query(
            f"rcpt#{shard:02d}",
            ForesightItem.sk > after if after else None,
            filter_condition=(ForesightItem.district == district) if district else None,
            limit=limit,
        )
        page = [(i.sk, i.sk.split("#", 1)[0], i.phone_sealed or "") for i in rows]
        last = rows.last_evaluated_key
        return page, (last["sk"]["S"] if last else None)

    def count_recipients(self, district: str | None) -> int:
        """Distinct phones (a phone of several districts once), reading keys only."""
        db.bound()
        total = 0
        for shard in range(SHARDS):
            previous = None
            for i in ForesightItem.query(
                f"rcpt#{shard:02d}",
                filter_condition=(ForesightItem.district == district) if district else None,
                attributes_to_get=["sk"],
            ):
                phone = i.sk.split("#", 1)[0]
                if phone != previous:
                    total += 1
                previous = phone
        return total

    # --- opt-outs ---------------------------------------------------------------------------------------

    def opt_out(self, phone_hash: str, at: str) -> None:
        db.bound()
        ForesightItem(pk=f"optout#{phone_hash}", sk="optout", data={"at": at}).save()

    def opted_out(self, phone_hashes: list[str]) -> set[str]:
        db.bound()
        keys = [(f"optout#{h}", "optout") for h in dict.fromkeys(phone_hashes)]
        return {i.pk.split("#", 1)[1] for i in ForesightItem.batch_get(keys)} if keys else set()

    # --- broadcasts -------------------------------------------------------------------------------------

    def put_broadcast(self, record: dict) -> None:
        db.bound()
        ForesightItem(pk="broadcasts", sk=record["id"], data=record, status=record["status"], version=1).save(
            condition=ForesightItem.pk.does_not_exist()
        )

    def broadcast(self, broadcast_id: str) -> tuple[dict, int] | None:
        db.bound()
        try:
            item = ForesightItem.get("broadcasts", broadcast_id, consistent_read=True)
        except ForesightItem.DoesNotExist:
            return None
        return dict(item.data or {}), int(item.version or 0)

    def save_broadcast(self, record: dict, version: int) -> bool:
        """The broadcast's new state if nobody saved it since ``version`` was read."""
        db.bound()
        try:
            ForesightItem(
                pk="broadcasts", sk=record["id"], data=record, status=record["status"], version=version + 1
            ).save(condition=ForesightItem.version == version)
            return True
        except PutError:
            return False

    def broadcasts(self) -> list[dict]:
        db.bound()
        return [dict(i.data or {}) for i in ForesightItem.query("broadcasts", scan_index_forward=False)]

    def claim_delivery(self, broadcast_id: str, phone_hash: str, at: str) -> bool:
        """The phone's turn in this broadcast, once: False if it was claimed before (by a run that
        may have crashed after sending)."""
        db.bound()
        try:
            ForesightItem(pk=f"bc#{broadcast_id}", sk=phone_hash, status="sending", data={"at": at}).save(
                condition=ForesightItem.pk.does_not_exist()
            )
            return True
        except PutError:
            return False

    def delivery_status(self, broadcast_id: str, phone_hash: str) -> str | None:
        db.bound()
        try:
            return ForesightItem.get(f"bc#{broadcast_id}", phone_hash, consistent_read=True).status
        except ForesightItem.DoesNotExist:
            return None

    def mark_delivery(self, broadcast_id: str, phone_hash: str, status: str) -> None:
        db.bound()
        try:
            ForesightItem(pk=f"bc#{broadcast_id}", sk=phone_hash).update(
                actions=[ForesightItem.status.set(status)], condition=ForesightItem.status == "sending"
            )
        except UpdateError:
            pass  # marked already: the first mark stands

    # --- typical cases ----------------------------------------------------------------------------------

    def put_case(self, case: dict) -> None:
        db.bound()
        ForesightItem(pk="cases", sk=case["petition"], data=case, status=case["status"]).save()

    def case(self, petition_id: str) -> dict | None:
        db.bound()
        try:
            return dict(ForesightItem.get("cases", petition_id, consistent_read=True).data or {})
        except ForesightItem.DoesNotExist:
            return None

    def cases(self) -> list[dict]:
        db.bound()
        return [dict(i.data or {}) for i in ForesightItem.query("cases")]

    # --- reports (the files are in S3: report_store) ---------------------------------------------------

    def put_report(self, report: dict) -> None:
        db.bound()
        ForesightItem(pk="reports", sk=f"{report['period']}#{report['district']}", data=report).save()

    def reports(self) -> list[dict]:
        db.bound()
        return [dict(i.data or {}) for i in ForesightItem.query("reports", scan_index_forward=False)]

    # --- hotspots ---------------------------------------------------------------------------------------

    def open_hotspot(self, hotspot: dict) -> bool:
        """The hotspot and its (district, grid, category) key, unless one is open there already."""
        db.bound()
        try:
            ForesightItem(pk=_open_key(hotspot), sk="open", status="open", data={"id": hotspot["id"]}).save(
                condition=ForesightItem.pk.does_not_exist() | (ForesightItem.status == "cooled")
            )
        except PutError:
            return False
        self.save_hotspot(hotspot)
        return True

    def save_hotspot(self, hotspot: dict) -> None:
        db.bound()
        ForesightItem(
            pk=f"hotspots#{hotspot['district']}", sk=hotspot["id"], data=hotspot, status=hotspot["status"]
        ).save()
        if hotspot["status"] == "cooled":  # frees the key: the next burst there opens a new hotspot
            ForesightItem(
                pk=_open_key(hotspot), sk="open", status="cooled", data={"id": hotspot["id"]}
            ).save()

    def hotspots(self, district: str) -> list[dict]:
        db.bound()
        return [
            dict(i.data or {}) for i in ForesightItem.query(f"hotspots#{district}", scan_index_forward=False)
        ]

    def hotspot(self, district: str, hotspot_id: str) -> dict | None:
        db.bound()
        try:
            return dict(
                ForesightItem.get(f"hotspots#{district}", hotspot_id, consistent_read=True).data or {}
            )
        except ForesightItem.DoesNotExist:
            return None


def _open_key(hotspot: dict) -> str:
    return f"hsopen#{hotspot['district']}#{hotspot['grid']}#{hotspot['category']}"

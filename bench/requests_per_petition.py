"""DynamoDB requests per create and per action, counted from botocore events, beside the minimum of one write.

Runs the in-process local stack (moto). Reads and writes are counted separately;
the publisher's work right after a commit (SNS publish + marking the record) is
shown on its own line, since in AWS it can move to the outbox table's stream.
"""

from __future__ import annotations

from collections import Counter

from chalicelib import db
from chalicelib.local.stack import LocalStack

WRITE_OPS = {"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"}


class Meter:
    def __init__(self) -> None:
        self.calls: Counter = Counter()

    def __call__(self, model=None, **_kw) -> None:
        self.calls[model.name] += 1

    def take(self) -> Counter:
        out, self.calls = self.calls, Counter()
        return out


def main() -> None:
    from tests.conftest import Api

    stack = LocalStack(port=0, sweep_interval=0).start()
    try:
        api = Api(stack.url)
        meter = Meter()
        api.get("/health")  # binds tables and warms the directory cache
        for client in db.all_connections():
            client.meta.events.register("before-call.dynamodb", meter)
        from chalicelib.runtime import get_runtime

        runtime = get_runtime()
        # Measure the commit path alone; the publisher's work is drained and counted afterwards.
        runtime.uow.publish = None

        body = {
            "district": "210911",
            "content": "路口信号灯故障，早晚高峰拥堵严重",
            "citizen": {"phone": "13600136000"},
        }
        rows = []
        n = 20

        def plain(i):
            return api.post(
                "/v1/petitions", {**body, "content": f"{body['content']}{i}"}, as_="local-hotline"
            )

        def keyed(i):
            return api.post(
                "/v1/petitions",
                {**body, "content": f"{body['content']}k{i}"},
                as_="local-hotline",
                headers={"Idempotency-Key": f"bench-{i}"},
            )

        for label, do in [("create (no key)", plain), ("create (Idempotency-Key)", keyed)]:
            meter.take()
            ids = [do(i).json()["id"] for i in range(n)]
            calls = meter.take()
            rows.append((label, calls, n))
        pid_list = ids
        for action, who, payload in [
            ("dispatch", "dispatcher@210911", {"department": "210911.urban"}),
            ("accept", "handler@210911.urban", {}),
            ("resolve", "handler@210911.urban", {"reply": "已修复"}),
        ]:
            meter.take()
            for pid in pid_list:
                api.post(f"/v1/petitions/{pid}/{action}", payload, as_=who)
            rows.append((action, meter.take(), len(pid_list)))
        runtime.uow.publish = runtime.publisher.after_commit

        meter.take()
        delivered = runtime.publisher.drain(runtime.env())
        pub = meter.take()
        sent = sum(delivered.values())
        print(f"{'operation':26} {'writes/op':>9} {'reads/op':>9}   detail (per op)        minimum: 1 write")
        for label, calls, count in rows:
            writes = sum(v for k, v in calls.items() if k in WRITE_OPS) / count
            reads = sum(v for k, v in calls.items() if k not in WRITE_OPS) / count
            detail = ", ".join(f"{k} {v / count:.1f}" for k, v in sorted(calls.items()))
            print(f"{label:26} {writes:9.2f} {reads:9.2f}   {detail}")
        detail = ", ".join(f"{k} {v / max(sent, 1):.1f}" for k, v in sorted(pub.items()))
        print(f"publisher: {sent} notifications delivered; per notification: {detail}")
    finally:
        stack.stop()


if __name__ == "__main__":
    main()

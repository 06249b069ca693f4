"""Where reports live: the export bucket under ``reports/<period>/<district>/report.{html,pdf}``,
read back through short-lived presigned URLs (the console downloads them; nobody lists the bucket).
Its client comes in through the constructor (``aws.client("s3")`` when none is given)."""

from __future__ import annotations

from typing import Any

from chalicelib import aws

URL_SECONDS = 900
TYPES = {"html": "text/html; charset=utf-8", "pdf": "application/pdf"}


class ReportFiles:
    def __init__(self, bucket: str, client: Any = None) -> None:
        self.bucket = bucket
        self._client = client

    @property
    def client(self) -> Any:
        return self._client or aws.client("s3")

    def put(self, key: str, body: bytes, kind: str) -> None:
        self.client.put_object(Bucket=self.bucket, Key=key, Body=body, ContentType=TYPES[kind])

    def url(self, key: str) -> str:
        return self.client.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": key}, ExpiresIn=URL_SECONDS
        )

"""The SNS adapter of the publisher's port: SMS to a phone number, messages to our topics.

The port is the one place that talks to SNS; a domestic SMS gateway adapter can replace
``send_sms`` without touching the publisher. Its client comes in through the constructor
(built lazily by ``aws.client`` when none is given)."""

from __future__ import annotations

from typing import Any

from chalicelib import aws
from chalicelib.settings import Settings


class SnsPort:
    def __init__(self, settings: Settings, client: Any = None) -> None:
        self.settings = settings
        self._client = client

    @property
    def client(self) -> Any:
        return self._client or aws.client("sns")

    def send_sms(self, phone: str, message: str) -> str:
        r = self.client.publish(
            PhoneNumber=phone,
            Message=message,
            MessageAttributes={
                "AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"},
                "AWS.SNS.SMS.SenderID": {"DataType": "String", "StringValue": self.settings.sms_sender_id},
            },
        )
        return r["MessageId"]

    def publish_topic(self, topic: str, message: str, attributes: dict[str, str]) -> str:
        arn = {"orders": self.settings.topic_orders_arn, "supervision": self.settings.topic_supervision_arn}[
            topic
        ]
        r = self.client.publish(
            TopicArn=arn,
            Message=message,
            MessageAttributes={
                k: {"DataType": "String", "StringValue": v} for k, v in attributes.items() if v
            },
        )
        return r["MessageId"]

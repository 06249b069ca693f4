"""Literals used in decorator arguments and names (never read from the environment)."""

APP_NAME = "fuzhengtong"
# The Powertools Logger service name must differ from the Chalice app name (DESIGN.md).
LOG_SERVICE = "fzt"
# SNS two-way SMS delivers citizens' replies to this topic (created in infra/template.yaml).
INBOUND_SMS_TOPIC = "fzt-inbound-sms"
# The outbox table's stream, as chalice needs a literal: infra/package.py replaces it with the
# stack's own (Fn::GetAtt OutboxTable.StreamArn) and fails the packaging if it cannot.
OUTBOX_STREAM_ARN = (
    "arn:aws:dynamodb:cn-north-1:000000000000:table/fzt-outbox/stream/replaced-by-infra-package"
)

"""Literals used in decorator arguments and names (never read from the environment)."""

APP_NAME = "fuzhengtong"
# The Powertools Logger service name must differ from the Chalice app name (DESIGN.md).
LOG_SERVICE = "fzt"
# SNS two-way SMS delivers citizens' replies to this topic (created in infra/template.yaml).
INBOUND_SMS_TOPIC = "fzt-inbound-sms"

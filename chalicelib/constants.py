"""Literals used in decorator arguments and names (never read from the environment)."""

APP_NAME = "fuzhengtong"
# The Powertools Logger service name must differ from the Chalice app name (DESIGN.md).
LOG_SERVICE = "fzt"

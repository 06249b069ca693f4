"""Intake: channel adapters, validation, idempotency, tracking numbers."""

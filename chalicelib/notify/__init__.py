"""Notifications: outbox, publisher port + SNS adapter, zh-CN templates.

The pure parts (no boto3, no clock, no environment) live in ``templates``,
``segments``, ``quiet`` and ``topics``.
"""

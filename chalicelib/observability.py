"""Logging and metrics: AWS Lambda Powertools in AWS, plain logging on the local stack.

- Every ``fzt.*`` logger gets Powertools' structured JSON formatting in AWS (service
  ``fzt``, distinct from the Chalice app name: DESIGN.md's known double-logging trap).
- A record factory masks anything that looks like a mainland mobile number in every
  log record of every logger (botocore's debug lines carry request bodies), as defence
  in depth: our code logs no phone numbers, and must not start to.
- ``metric`` emits a CloudWatch EMF metric in AWS; locally it is a debug log line.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from chalicelib.constants import LOG_SERVICE

PHONE = re.compile(r"(?<![0-9A-Za-z])(\+?86)?(1[3-9]\d)(\d{4})(\d{4})(?![0-9A-Za-z])")
NAMESPACE = "Fuzhengtong"
_configured = False
_powertools: Any = None
# The invocation's identifiers (function, request id, route, petition), put on every log record.
_fields: ContextVar[dict[str, str] | None] = ContextVar("fzt_log_fields", default=None)


def mask(text: str) -> str:
    return PHONE.sub(lambda m: f"{m.group(2)}****{m.group(4)}", text)


class MaskPhones(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask(message)
        if masked != message:
            record.msg, record.args = masked, ()
        return True


def install_masking() -> None:
    """Mask phones in every record of every logger (botocore's debug lines carry request bodies)."""
    base = logging.getLogRecordFactory()
    if getattr(base, "fzt_masking", False):
        return

    def factory(*args, **kwargs):
        record = base(*args, **kwargs)
        MaskPhones().filter(record)
        for key, value in (_fields.get() or {}).items():
            setattr(record, key, value)
        return record

    factory.fzt_masking = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


def setup(settings) -> None:
    global _configured, _powertools
    if _configured:
        return
    install_masking()
    logging.getLogger("fzt").setLevel(settings.log_level)
    if not settings.is_local:
        from aws_lambda_powertools import Logger
        from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers

        _powertools = Logger(service=LOG_SERVICE, level=settings.log_level)
        copy_config_to_registered_loggers(source_logger=_powertools, include={"fzt"})
    _configured = True


def current_fields() -> dict[str, str]:
    return dict(_fields.get() or {})


@contextmanager
def invocation(settings, function: str, **fields: Any) -> Iterator[None]:
    """One function invocation (an HTTP request, a schedule, an SNS message): logging set up and
    phones masked whatever the entry point, and its identifiers on every record it logs."""
    setup(settings)
    values = {"function": function, **{k: str(v) for k, v in fields.items() if v}}
    token = _fields.set(values)
    if _powertools is not None:
        _powertools.append_keys(**values)
    try:
        yield
    finally:
        _fields.reset(token)
        if _powertools is not None:
            _powertools.remove_keys(list(values))


def metric(name: str, value: float, settings, unit: str = "Count") -> None:
    if settings.is_local:
        logging.getLogger("fzt.metrics").debug("%s=%s", name, value)
        return
    from aws_lambda_powertools.metrics import MetricUnit, single_metric

    with single_metric(name=name, unit=getattr(MetricUnit, unit), value=value, namespace=NAMESPACE) as m:
        m.add_dimension(name="service", value=LOG_SERVICE)

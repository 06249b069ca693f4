"""The movable clock and local operator tokens: pure, no sockets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.auth.identity import issue_local_token, verify_local_token
from chalicelib.clock import ClockMovedBackwards, MovableClock, iso, parse_instant
from chalicelib.errors import Unauthenticated

START = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)  # Friday 10:00 in Shanghai


def test_movable_clock_starts_where_told_and_only_moves_forward():
    clock = MovableClock(START)
    assert abs((clock.now() - START).total_seconds()) < 1
    moved = clock.advance(86400)
    assert moved - START >= timedelta(days=1)
    with pytest.raises(ClockMovedBackwards):
        clock.set(START)
    with pytest.raises(ClockMovedBackwards):
        clock.advance(-1)


def test_naive_instants_are_shanghai_time_and_the_wire_format_carries_the_offset():
    assert parse_instant("2026-11-20T10:00:00") == START
    assert parse_instant("2026-11-20T02:00:00Z") == START
    assert iso(START) == "2026-11-20T10:00:00+08:00"


def test_token_round_trip_names_the_user():
    token = issue_local_token("dispatcher@210902", "secret", START)
    assert verify_local_token(token, "secret", START) == "dispatcher@210902"


@pytest.mark.parametrize(
    "mutate",
    [
        lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),  # signature edited
        lambda t: t.replace("fzt.", "xyz.", 1),  # wrong prefix
        lambda t: t.split(".")[0],  # truncated
    ],
)
def test_tampered_tokens_are_refused(mutate):
    token = issue_local_token("admin@210900", "secret", START)
    with pytest.raises(Unauthenticated):
        verify_local_token(mutate(token), "secret", START)


def test_token_signed_with_another_secret_or_expired_is_refused():
    token = issue_local_token("admin@210900", "secret", START)
    with pytest.raises(Unauthenticated):
        verify_local_token(token, "other", START)
    with pytest.raises(Unauthenticated):
        verify_local_token(token, "secret", START + timedelta(days=2))


@pytest.mark.parametrize(
    "raw, masked",
    [
        ("sms to 13800138000 failed", "sms to 138****8000 failed"),
        ("to=+8613800138000", "to=138****8000"),
        ("hash 0a13800138000ff stays", "hash 0a13800138000ff stays"),
    ],
)
def test_log_records_never_carry_a_phone_in_clear(raw, masked):
    import logging

    from chalicelib.observability import MaskPhones

    record = logging.LogRecord("fzt.test", logging.INFO, __file__, 1, raw, (), None)
    MaskPhones().filter(record)
    assert record.getMessage() == masked


def test_any_logger_masks_phones_once_masking_is_installed(caplog):
    import logging

    from chalicelib.observability import install_masking

    install_masking()
    with caplog.at_level(logging.DEBUG, logger="botocore.test"):
        logging.getLogger("botocore.test").debug("Publish PhoneNumber=%s", "+8613900139000")
    assert "139****9000" in caplog.text and "13900139000" not in caplog.text


def test_dev_and_prod_refuse_the_published_local_keys():
    from chalicelib.settings import InsecureSettings, settings_from_env

    with pytest.raises(InsecureSettings, match="FZT_PHONE_KEY"):
        settings_from_env({"FZT_STAGE": "prod", "FZT_DATA_KEY": "k"})
    assert settings_from_env({"FZT_STAGE": "prod", "FZT_DATA_KEY": "k", "FZT_PHONE_KEY": "p"}).stage == "prod"
    assert settings_from_env({}).stage == "local"

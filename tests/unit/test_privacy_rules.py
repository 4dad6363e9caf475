"""Pure rules of bot.services.privacy and bot.crypto: calendar months, whole-id replacement,
key parsing and rotation."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest
from cryptography.fernet import Fernet, InvalidToken

from bot import crypto
from bot.services.privacy import _id_pattern, _replace_id, months_before


@pytest.mark.parametrize(
    ("moment", "months", "expected"),
    [
        ("2027-11-23T09:00:00", 12, "2026-11-23T09:00:00"),
        ("2027-03-31T00:00:00", 1, "2027-02-28T00:00:00"),
        ("2028-03-31T00:00:00", 1, "2028-02-29T00:00:00"),
        ("2027-01-15T12:30:00", 3, "2026-10-15T12:30:00"),
        ("2027-12-31T23:59:00", 12, "2026-12-31T23:59:00"),
    ],
)
def test_months_before_counts_calendar_months(moment: str, months: int, expected: str) -> None:
    start = datetime.fromisoformat(moment).replace(tzinfo=UTC)
    assert months_before(start, months) == datetime.fromisoformat(expected).replace(tzinfo=UTC)


def test_only_whole_slack_ids_are_replaced_in_text_lists_and_dicts() -> None:
    value: Any = {
        "text": "<@U001> meets <@U0012>",
        "recipients": ["U001", "U0012", "XU001"],
        "U001": 1,
        "n": 3,
    }
    assert _replace_id(value, _id_pattern("U001"), "deleted-x") == {
        "text": "<@deleted-x> meets <@U0012>",
        "recipients": ["deleted-x", "U0012", "XU001"],
        "deleted-x": 1,
        "n": 3,
    }


def test_a_malformed_key_is_named_by_position_never_by_value() -> None:
    good = crypto.generate_key()
    with pytest.raises(ValueError, match=re.escape("key 2 is not a Fernet key")) as error:
        crypto.parse_keys(f"{good}, not-a-key-secret")
    assert "not-a-key-secret" not in str(error.value)
    with pytest.raises(ValueError, match="holds no key"):
        crypto.parse_keys(" , ")


def test_the_newest_key_encrypts_and_every_key_decrypts() -> None:
    old, new = crypto.generate_key(), crypto.generate_key()
    crypto.configure([old])
    token = crypto.encrypt("välue")
    crypto.configure([new, old])
    assert crypto.decrypt(token) == "välue" and not crypto.under_newest_key(token)
    rotated = crypto.rotate(token)
    assert crypto.under_newest_key(rotated)
    assert Fernet(new).decrypt(rotated.encode()).decode() == "välue"
    with pytest.raises(InvalidToken):
        Fernet(old).decrypt(rotated.encode())


def test_no_key_means_no_reading_or_writing() -> None:
    crypto.configure(None)
    with pytest.raises(crypto.KeyRingMissing, match="PEERCOACH_ENCRYPTION_KEYS"):
        crypto.encrypt("x")

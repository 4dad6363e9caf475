"""The parsers every modal and button value goes through: forged values are StaleAction."""

from __future__ import annotations

import pytest

from bot.errors import StaleAction
from bot.views.blocks import (
    MAX_RECORD_ID,
    record_id,
    selected_users,
    selected_value,
    selected_values,
    text_value,
)


@pytest.mark.parametrize("value", ["1", "42", str(MAX_RECORD_ID), 7])
def test_record_ids_are_read(value: object) -> None:
    assert record_id(value) == int(str(value))


@pytest.mark.parametrize(
    "value", ["", "abc", "0", "-1", "²", "\u0661", "1.5", " 7", str(MAX_RECORD_ID + 1), True, None]
)
def test_anything_else_is_out_of_date(value: object) -> None:
    with pytest.raises(StaleAction) as raised:
        record_id(value, block_id="b")
    assert raised.value.block_id == "b"


def state(value: object) -> dict:
    return {"b": {"a": value}}


def test_a_select_reads_only_offered_options() -> None:
    assert selected_value(state({"selected_option": {"value": "2"}}), "b", "a", ["1", "2"]) == "2"
    assert selected_value(state({}), "b", "a", ["1"]) is None
    for forged in ({"value": "3"}, {"value": 2}, "2", ["2"], {}):
        with pytest.raises(StaleAction):
            selected_value(state({"selected_option": forged}), "b", "a", ["1", "2"])


def test_a_multi_select_reads_only_offered_options_once() -> None:
    chosen = [{"value": "x"}, {"value": "y"}, {"value": "x"}]
    assert selected_values(state({"selected_options": chosen}), "b", "a", "xy") == ("x", "y")
    for forged in ([{"value": "z"}], ["x"], {"value": "x"}, [None]):
        with pytest.raises(StaleAction):
            selected_values(state({"selected_options": forged}), "b", "a", "xy")


def test_users_must_be_user_ids() -> None:
    assert selected_users(state({"selected_users": ["U1", "W2", "U1"]}), "b", "a") == ("U1", "W2")
    for forged in (["C123"], ["u1"], [1], "U1", ["U" * 40]):
        with pytest.raises(StaleAction):
            selected_users(state({"selected_users": forged}), "b", "a")


def test_text_is_stripped_of_nul_and_anything_not_text_is_empty() -> None:
    assert text_value(state({"value": "  Sales\x00 "}), "b", "a") == "Sales"
    for shaped_wrong in ({"value": 5}, {"value": ["x"]}, "x", None):
        assert text_value(state(shaped_wrong), "b", "a") == ""
    assert text_value({"b": "not a dict"}, "b", "a") == ""
    assert text_value(["not", "a", "dict"], "b", "a") == ""

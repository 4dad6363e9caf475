"""The Slack emulator refuses what Slack would refuse and fails like Slack fails."""

from __future__ import annotations

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.sandbox.reference import check_view
from bot.sandbox.slack_emulator import ScriptedFailure, SlackEmulator


@pytest.fixture
def client(slack: SlackEmulator) -> WebClient:
    return WebClient(token="xoxb-test", base_url=slack.base_url)


def test_an_unknown_method_is_refused_and_recorded(slack: SlackEmulator, client: WebClient) -> None:
    with pytest.raises(SlackApiError) as refused:
        client.api_call("chat.postMesage", json={"channel": "U001", "text": "hi"})
    assert refused.value.response["error"] == "unknown_method"
    assert slack.violations == ["chat.postMesage: not a method in the reference extract"]
    slack.violations.clear()


def test_an_unknown_or_missing_argument_is_refused(slack: SlackEmulator, client: WebClient) -> None:
    with pytest.raises(SlackApiError):
        client.api_call("chat.postMessage", json={"channel": "U001", "txt": "hi"})
    with pytest.raises(SlackApiError):
        client.api_call("users.info", params={})
    assert slack.violations == [
        "chat.postMessage: unknown argument 'txt'",
        "users.info: missing required argument 'user'",
    ]
    slack.violations.clear()


def test_scripted_errors_and_rate_limits(slack: SlackEmulator, client: WebClient) -> None:
    slack.fail_next("users.info", "user_not_found")
    slack.rate_limit_next("users.info", retry_after=7)
    with pytest.raises(SlackApiError) as first:
        client.users_info(user="U001")
    assert first.value.response["error"] == "user_not_found"
    with pytest.raises(SlackApiError) as second:
        client.users_info(user="U001")
    assert second.value.response.status_code == 429
    assert second.value.response.headers["Retry-After"] == "7"
    assert client.users_info(user="U001")["user"]["id"] == "U001"


def test_a_random_share_of_calls_fails_as_scripted_until_stopped(
    slack: SlackEmulator, client: WebClient
) -> None:
    slack.fail_randomly(
        ["users.info"],
        0.5,
        [ScriptedFailure("service_unavailable", 503), ScriptedFailure("ratelimited", 429, 3)],
        seed=1,
    )
    answers = []
    for _ in range(40):
        try:
            client.users_info(user="U001")
            answers.append(200)
        except SlackApiError as error:
            answers.append(error.response.status_code)
    assert 10 <= answers.count(200) <= 30 and {503, 429} <= set(answers)
    assert all(client.conversations_open(users="U002")["ok"] for _ in range(5))  # not listed
    slack.fail_randomly(["users.info"], 0, [])
    assert client.users_info(user="U001")["ok"]


def test_tier_limits_are_enforced_on_the_emulators_clock() -> None:
    now = [0.0]
    with SlackEmulator(clock=lambda: now[0], enforce_rate_limits=True) as slack:
        for n in range(60):
            slack.add_user(f"U{n:03d}")
        client = WebClient(token="xoxb-test", base_url=slack.base_url)
        for n in range(50):  # conversations.open is tier 3: 50 a minute
            client.conversations_open(users=f"U{n:03d},U{n + 1:03d}")
        with pytest.raises(SlackApiError) as limited:
            client.conversations_open(users="U050,U051")
        assert limited.value.response.status_code == 429
        assert int(limited.value.response.headers["Retry-After"]) == 60
        now[0] = 60.5
        assert client.conversations_open(users="U050,U051")["ok"]


def test_group_dms_answer_like_slack(slack: SlackEmulator, client: WebClient) -> None:
    first = client.conversations_open(users="U001,U002")
    again = client.conversations_open(users="U002,U001")
    assert first["channel"]["id"] == again["channel"]["id"]
    posted = client.chat_postMessage(channel=first["channel"]["id"], text="hello")
    assert posted["ts"] and posted["channel"] == first["channel"]["id"]
    slack.add_user("U099", deleted=True)
    with pytest.raises(SlackApiError) as disabled:
        client.conversations_open(users="U001,U099")
    assert disabled.value.response["error"] == "user_disabled"


def test_views_over_slacks_limits_are_flagged() -> None:
    too_long = {
        "type": "modal",
        "title": {"type": "plain_text", "text": "A title that is far too long"},
        "blocks": [{"type": "divider"}] * 101,
    }
    assert check_view(too_long) == [
        "modal: 101 blocks, limit 100",
        "modal title 'A title that is far too long' over 24 characters",
    ]

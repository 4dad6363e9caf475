"""The Slack emulator refuses what Slack would refuse and fails like Slack fails."""

from __future__ import annotations

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.sandbox.reference import check_view
from bot.sandbox.slack_emulator import SlackEmulator


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


def test_socket_mode_urls_need_an_app_level_token(slack: SlackEmulator, client: WebClient) -> None:
    with pytest.raises(SlackApiError) as refused:
        client.apps_connections_open(app_token="xoxb-test")
    opened = client.apps_connections_open(app_token="xapp-1-test")

    assert refused.value.response["error"] == "invalid_auth"
    assert opened["url"].startswith("ws://127.0.0.1:") and "ticket=" in opened["url"]


def test_users_are_found_by_email_like_slack(slack: SlackEmulator, client: WebClient) -> None:
    slack.add_user("U077", name="ana", email="Ana@Example.com")
    assert client.users_lookupByEmail(email="ana@example.com")["user"]["id"] == "U077"
    with pytest.raises(SlackApiError) as unknown:
        client.users_lookupByEmail(email="nobody@example.com")
    assert unknown.value.response["error"] == "users_not_found"


def test_a_shared_file_is_described_and_downloaded_only_with_a_token(
    slack: SlackEmulator, client: WebClient
) -> None:
    import urllib.error
    import urllib.request

    uploaded = slack.upload_file("U001", "org.csv", b"email,manager\n")
    info = client.files_info(file=uploaded["id"])["file"]
    assert info["name"] == "org.csv" and info["size"] == 14
    with pytest.raises(SlackApiError) as missing:
        client.files_info(file="F0NOPE")
    assert missing.value.response["error"] == "file_not_found"
    url = info["url_private_download"]
    with pytest.raises(urllib.error.HTTPError) as anonymous:
        urllib.request.urlopen(url, timeout=5)
    assert anonymous.value.code == 403
    signed = urllib.request.Request(url, headers={"Authorization": "Bearer xoxb-test"})
    with urllib.request.urlopen(signed, timeout=5) as answer:
        assert answer.read() == b"email,manager\n"


def test_a_file_input_belongs_in_a_modals_input_block() -> None:
    element = {"type": "file_input", "action_id": "f", "max_files": 1}
    assert (
        check_view(
            {
                "type": "modal",
                "title": {"type": "plain_text", "text": "Upload"},
                "blocks": [{"type": "input", "block_id": "b", "element": element}],
            }
        )
        == []
    )
    home = {"type": "home", "blocks": [{"type": "input", "block_id": "b", "element": element}]}
    assert check_view(home) == ["file_input outside a modal's input block"]

"""The Slack app manifest grants what the app needs, and only that."""

from __future__ import annotations

from pathlib import Path

import yaml

from bot import ids
from bot.sandbox.build_reference import EVENTS, METHODS
from bot.sandbox.reference import reference

MANIFEST = yaml.safe_load((Path(__file__).parents[1] / "manifest.yml").read_text())
BOT_SCOPES = set(MANIFEST["oauth_config"]["scopes"]["bot"])
# Scopes that no Web API method lists but the app needs for a feature of its own.
FEATURE_SCOPES = {"commands"}  # the /peercoach slash command
# Methods called with an app-level token (Socket Mode), not the bot token.
APP_TOKEN_METHODS = {"apps.connections.open"}


def test_every_method_the_app_calls_is_granted_by_a_manifest_scope() -> None:
    # The emulator refuses any method missing from the extract, so this covers every call.
    for method, spec in reference()["methods"].items():
        if method in APP_TOKEN_METHODS or not spec["bot_scopes"]:
            continue
        assert BOT_SCOPES & set(spec["bot_scopes"]), f"{method} needs one of {spec['bot_scopes']}"


def test_the_manifest_grants_no_scope_the_app_does_not_use() -> None:
    used = {s for spec in reference()["methods"].values() for s in spec["bot_scopes"]}
    used |= {s for event in reference()["events"].values() for s in event["scopes"]}
    assert BOT_SCOPES - used - FEATURE_SCOPES == set()


def test_subscribed_events_are_the_ones_the_app_handles() -> None:
    assert set(MANIFEST["settings"]["event_subscriptions"]["bot_events"]) == set(EVENTS)


def test_the_extract_holds_exactly_the_methods_the_app_declares() -> None:
    assert sorted(reference()["methods"]) == sorted(METHODS)


def test_one_request_url_serves_commands_interactivity_and_events() -> None:
    urls = {
        MANIFEST["features"]["slash_commands"][0]["url"],
        MANIFEST["settings"]["interactivity"]["request_url"],
        MANIFEST["settings"]["event_subscriptions"]["request_url"],
    }
    assert len(urls) == 1 and urls.pop().endswith("/slack/events")
    assert MANIFEST["features"]["slash_commands"][0]["command"] == ids.COMMAND

"""A person's own data: delete it (leaving no trace but anonymous counts), download it."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from bot import crypto, ids
from bot.domain.messages import TextNotice
from bot.domain.people import Profile
from bot.domain.privacy import DeletionReport
from bot.sandbox.harness import Sandbox
from bot.services import membership, outbox, privacy
from bot.services.metrics import cycle_figures, membership_figures
from bot.services.privacy import PLACEHOLDER_PREFIX
from db.models import Base, Member, OutboxMessage, Programme, Round, Workspace
from db.types import ENCRYPTED_TYPES
from tests.cycle_helpers import MONDAY_9, go_to, intro_groups
from tests.test_admin import ADMIN, open_settings, settings_values
from tests.test_rounds import reflection_values

PERSON = "U001"
TEAM_NAME = "PELICAN-team-9931"
TAKEAWAY_1, COMMITMENT_1 = "ZEBRA-takeaway-4411", "QUOKKA-commitment-8812"
TAKEAWAY_2 = "OKAPI-takeaway-1207"
PARTNER_TAKEAWAY = "NARWHAL-partner-takeaway-5555"


def reflect(sandbox: Sandbox, user: str, takeaway: str, commitment: str | None) -> None:
    """The person reflects on their latest pairing through `/peercoach reflect`."""
    sandbox.people.command(user, "reflect")
    sandbox.settle()
    view = sandbox.emulator.successful("views.open")[-1].response["view"]
    response = sandbox.people.submit(user, view, reflection_values("4", takeaway, commitment))
    assert response.status == 200 and response.body == b""
    sandbox.settle()


def partner_of(sandbox: Sandbox, user: str, since: int = 0) -> str:
    group = next(g for g in intro_groups(sandbox, since) if user in g)
    return next(u for u in group if u != user)


def every_stored_value(engine: Engine) -> list[tuple[str, str, str]]:
    """(table, column, value) for every non-null value of every table, read with plain SQL;
    an encrypted column also yields its decrypted text (tagged column + '*')."""
    found = []
    with engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            encrypted = {c.name for c in table.columns if isinstance(c.type, ENCRYPTED_TYPES)}
            result = connection.execute(text(f"SELECT * FROM {table.name}"))
            for row in result.mappings():
                for name, value in row.items():
                    if value is None:
                        continue
                    found.append((table.name, name, str(value)))
                    if name in encrypted:
                        found.append((table.name, name + "*", crypto.decrypt(value)))
    return found


def figures(sandbox: Sandbox) -> tuple[Any, Any]:
    with sandbox.deps.unit_of_work() as session:
        programme_id = session.scalars(select(Programme.id)).one()
        return (
            cycle_figures(session, programme_id, last=8),
            membership_figures(session, programme_id),
        )


def two_rounds_with_the_person_as_admin(sandbox: Sandbox) -> str:
    """The person joins, is made a programme admin, changes a setting, reflects twice and is
    asked about their commitment; returns their first partner."""
    sandbox.emulator.add_user(ADMIN, name="programme-lead", is_admin=True)
    sandbox.join(PERSON, team=TEAM_NAME, never=["U002"])
    sandbox.join("U003", never=[PERSON])  # someone else's private choice, naming the person
    for user in ("U004", "U005", "U006", "U007"):
        sandbox.join(user)
    sandbox.people.submit(ADMIN, open_settings(sandbox), settings_values(admins=[PERSON]))
    sandbox.settle()
    sandbox.people.submit(
        PERSON,
        open_settings(sandbox, PERSON),
        settings_values(hour="9", admins=[PERSON], repeat="3"),
    )
    sandbox.settle()

    go_to(sandbox, MONDAY_9)
    sandbox.tick()
    partner = partner_of(sandbox, PERSON)
    reflect(sandbox, PERSON, TAKEAWAY_1, COMMITMENT_1)
    reflect(sandbox, partner, PARTNER_TAKEAWAY, None)
    go_to(sandbox, MONDAY_9 + timedelta(weeks=1))
    sandbox.tick()  # closes round 1 (digest to the admins), asks about the commitment
    reflect(sandbox, PERSON, TAKEAWAY_2, None)
    return partner


def test_delete_my_data_leaves_only_placeholders_and_the_same_figures(
    sandbox: Sandbox,
) -> None:
    partner = two_rounds_with_the_person_as_admin(sandbox)
    before = every_stored_value(sandbox.engine)
    # The scan can see what it looks for: the person is all over the database beforehand.
    assert {t for t, _, v in before if PERSON in v} >= {
        "members",
        "group_seats",
        "outbox",
        "program_admins",
        "settings_changes",
    }
    assert any(COMMITMENT_1 in v for t, c, v in before if (t, c) == ("outbox", "payload*"))
    cycles_before, members_before = figures(sandbox)

    question = sandbox.people.command(PERSON, "delete-my-data").json()
    assert question["response_type"] == "ephemeral"
    assert "Delete your PeerCoach data?" in question["text"]
    buttons = [e for b in question["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert [b["action_id"] for b in buttons] == [ids.DELETE_DATA_CONFIRM, ids.DELETE_DATA_CANCEL]
    assert buttons[0]["style"] == "danger"
    sandbox.people.click(PERSON, ids.DELETE_DATA_CONFIRM, channel_id="CGENERAL", message_ts="1.2")
    sandbox.settle()

    answer = sandbox.emulator.responses[-1]
    assert answer["replace_original"] is True
    for line in (
        "Your PeerCoach data is deleted",
        "your profile (level, team) and 1 topic",
        "never-pair list (1 person)",
        "the text of 2 reflections and 1 commitment",
        "your name in your membership and 2 past pairings",
        "your programme admin role",
    ):
        assert line in answer["text"]

    after = every_stored_value(sandbox.engine)
    whole_id = re.compile(rf"\b{PERSON}\b")
    traces = [(t, c) for t, c, v in after if whole_id.search(v)]
    assert traces == [("exclusions", "excluded_user_id")]  # U003's own never-pair choice
    for secret in (TAKEAWAY_1, COMMITMENT_1, TAKEAWAY_2, TEAM_NAME):
        assert not any(secret in v for _, _, v in after), secret
    # The partner's reflection is theirs: still there, and only encrypted at rest.
    assert any(PARTNER_TAKEAWAY in v for t, c, v in after if c == "takeaway*")
    assert not any(PARTNER_TAKEAWAY in v for t, c, v in after if not c.endswith("*"))
    placeholders = {v for t, c, v in after if (t, c) == ("group_seats", "slack_user_id")}
    assert len([p for p in placeholders if p.startswith(PLACEHOLDER_PREFIX)]) == 1

    cycles_after, members_after = figures(sandbox)
    assert cycles_after == cycles_before
    # Deleting one's data is leaving: one active member fewer, one more gone, no one lost.
    assert members_after.active.value == members_before.active.value - 1
    assert members_after.left.value == members_before.left.value + 1
    assert partner != PERSON
    assert "not in PeerCoach" in sandbox.people.command(PERSON, "status").text


def test_pressing_delete_twice_at_once_deletes_once(sandbox: Sandbox) -> None:
    for user in ("U001", "U002"):
        sandbox.join(user)
    go_to(sandbox, MONDAY_9)
    sandbox.tick()
    reflect(sandbox, PERSON, TAKEAWAY_1, COMMITMENT_1)
    sandbox.people.command(PERSON, "delete-my-data")
    for ts in ("1.2", "1.3"):  # both listeners run side by side on the app's executor
        sandbox.people.click(PERSON, ids.DELETE_DATA_CONFIRM, channel_id="CGENERAL", message_ts=ts)
    sandbox.settle()

    answers = sorted(r["text"].splitlines()[0] for r in sandbox.emulator.responses[-2:])
    assert answers[0].startswith(":wastebasket: *Your PeerCoach data is deleted.*")
    assert "holds nothing about you" in answers[1]
    with sandbox.deps.unit_of_work() as session:
        ids_now = sorted(session.scalars(select(Member.slack_user_id)))
    assert ids_now[0] == "U002" and ids_now[1].startswith(PLACEHOLDER_PREFIX)
    assert len(ids_now) == 2


def test_cancelling_deletes_nothing(sandbox: Sandbox) -> None:
    sandbox.join(PERSON, team=TEAM_NAME)
    sandbox.people.command(PERSON, "delete-my-data")
    sandbox.people.click(PERSON, ids.DELETE_DATA_CANCEL, channel_id="CGENERAL", message_ts="1.2")
    sandbox.settle()
    assert sandbox.emulator.responses[-1]["text"] == "OK, nothing was deleted."
    assert "You're active" in sandbox.people.command(PERSON, "status").text


def test_leave_says_what_stays_and_offers_deletion(sandbox: Sandbox) -> None:
    sandbox.join(PERSON, team=TEAM_NAME)
    question = sandbox.people.command(PERSON, "leave").json()
    assert "/peercoach delete-my-data" in question["text"]
    sandbox.people.click(PERSON, ids.LEAVE_CONFIRM, channel_id="CGENERAL", message_ts="1.2")
    sandbox.settle()
    left = sandbox.emulator.responses[-1]
    assert "What stays: your past pairings" in left["text"]
    offered = [e for b in left["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert [e["action_id"] for e in offered] == [ids.DELETE_DATA_CONFIRM]
    assert offered[0]["confirm"]["confirm"]["text"] == "Delete"

    sandbox.people.click(PERSON, ids.DELETE_DATA_CONFIRM, channel_id="CGENERAL", message_ts="1.3")
    sandbox.settle()
    assert "Your PeerCoach data is deleted" in sandbox.emulator.responses[-1]["text"]
    assert not any(TEAM_NAME in v for _, _, v in every_stored_value(sandbox.engine))


def test_home_offers_download_and_deletion_of_ones_data(sandbox: Sandbox) -> None:
    sandbox.join(PERSON, team=TEAM_NAME)
    sandbox.people.click(PERSON, ids.HOME_EXPORT_DATA, view=sandbox.emulator.homes[PERSON])
    sandbox.settle()
    (upload,) = sandbox.emulator.uploads.values()
    assert sandbox.emulator.conversation_members(upload["channel"]) == (PERSON,)
    assert json.loads(upload["content"])["profile"]["team"] == TEAM_NAME

    sandbox.people.click(PERSON, ids.HOME_DELETE_DATA, view=sandbox.emulator.homes[PERSON])
    sandbox.settle()
    told = sandbox.emulator.successful("chat.postMessage")[-1].args
    assert "Your PeerCoach data is deleted" in told["text"]
    home_buttons = [
        e["action_id"]
        for b in sandbox.emulator.homes[PERSON]["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
    ]
    assert home_buttons[0] == ids.HOME_JOIN


def test_my_data_sends_one_json_file_with_ones_own_data_and_no_one_elses(
    sandbox: Sandbox,
) -> None:
    partner = two_rounds_with_the_person_as_admin(sandbox)

    reply = sandbox.people.command(PERSON, "my-data").json()
    assert reply["response_type"] == "ephemeral" and "in our DM" in reply["text"]
    sandbox.settle()

    (upload,) = [
        u for u in sandbox.emulator.uploads.values() if u["filename"] == "peercoach-my-data.json"
    ]
    assert sandbox.emulator.conversation_members(upload["channel"]) == (PERSON,)
    content = upload["content"].decode()
    data = json.loads(content)
    assert data["slack_user_id"] == PERSON
    assert data["profile"] == {
        "level": 3,
        "team": TEAM_NAME,
        "goals": ["delegation"],
        "development_goal": None,
        "working_hours": {
            "start_minute": 540,
            "end_minute": 1020,
            "days": [0, 1, 2, 3, 4],
            "no_meeting_days": [],
        },
    }
    assert data["never_pair"] == ["U002"]
    assert data["membership"]["status"] == "active"
    assert [r["takeaway"] for r in data["reflections"]] == [TAKEAWAY_1, TAKEAWAY_2]
    assert data["reflections"][0]["commitment"] == COMMITMENT_1
    assert len(data["pairings"]) == 2
    assert data["pairings"][0]["partners"] == [partner]
    assert data["programme_admin"]["source"] == "added"
    assert [c["field"] for c in data["settings_changes_made"]] == ["repeat_window"]
    follow_up = next(m for m in data["messages_to_you"] if m["kind"] == "commitment")
    assert COMMITMENT_1 in json.dumps(follow_up["content"])
    # Nobody else's private data: not the partner's reflection, not who excluded them.
    assert PARTNER_TAKEAWAY not in content
    assert all("never" not in json.dumps(p) for p in data["pairings"])
    if "U003" not in {p for pairing in data["pairings"] for p in pairing["partners"]}:
        assert "U003" not in content


def test_deletion_cancels_dms_waiting_for_the_person_and_spares_others_and_similar_ids(
    session: Session,
) -> None:
    now = MONDAY_9
    for user in (PERSON, "U0011", "U002"):
        membership.save_profile(
            session,
            team_id="T1",
            user_id=user,
            profile=Profile(level=3, team="Sales", goals=("delegation",)),
            tz_name=None,
            tz_offset_minutes=None,
            now=now,
        )
    workspace_id = session.scalars(select(Workspace.id)).one()
    waiting = {
        key: outbox.enqueue(
            session,
            workspace_id=workspace_id,
            dedupe_key=key,
            recipients=recipients,
            notice=TextNotice(text=f"Hello <@{recipients[0]}>"),
            now=now,
        )
        for key, recipients in {
            "dm": [PERSON],
            "group": [PERSON, "U002"],
            "lookalike": ["U0011"],
        }.items()
    }
    session.add(
        Round(
            workspace_id=workspace_id,
            programme_id=session.scalars(select(Programme.id)).one(),
            period_key="p",
            kind="scheduled",
            seed=1,
            started_at=now,
            nudge_at=now,
            checkin_at=now,
            unmatched=[PERSON, "U0011"],
        )
    )
    session.commit()

    report = privacy.delete_my_data(session, team_id="T1", user_id=PERSON, now=now)
    session.commit()
    assert report.messages_cancelled == 1 and report.membership

    session.expire_all()
    dm, group, lookalike = (session.get(OutboxMessage, m) for m in waiting.values())
    assert dm is not None and group is not None and lookalike is not None
    assert (dm.status, dm.payload["text"]) == ("cancelled", "")
    assert (group.status, group.recipients) == ("pending", ["U002"])
    assert str(group.payload["text"]).startswith("Hello <@deleted-")  # the others, unnamed
    assert (lookalike.status, lookalike.recipients, lookalike.payload["text"]) == (
        "pending",
        ["U0011"],
        "Hello <@U0011>",
    )
    unmatched = session.scalars(select(Round.unmatched)).one()
    assert unmatched[0].startswith(PLACEHOLDER_PREFIX) and unmatched[1] == "U0011"
    assert privacy.delete_my_data(session, team_id="T1", user_id=PERSON, now=now) == (
        DeletionReport()
    )

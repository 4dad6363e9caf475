"""What an operator sees on /metrics: request latencies, deliveries, the outbox, the lease.

Scraped through the real WSGI app and parsed with prometheus_client's own parser; and no
metric ever carries what people wrote, their names or their Slack ids.
"""

from __future__ import annotations

from datetime import timedelta

from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr
from sqlalchemy import select

from bot import ids
from bot.sandbox.harness import Sandbox
from bot.sandbox.slack_requests import call_wsgi
from bot.scheduler import RoundScheduler
from bot.server import make_wsgi_app
from bot.services.rounds import start_round
from db.models import Reflection
from db.session import make_engine
from tests.cycle_helpers import MONDAY_9, first_programme, go_to, intros, press
from tests.test_rounds import reflection_values

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(sandbox: Sandbox) -> str:
    response = call_wsgi(sandbox.wsgi, "GET", "/metrics")
    assert response.status == 200
    assert response.headers["content-type"].startswith("text/plain")
    return response.body.decode()


def samples(text: str) -> Samples:
    """Every sample of a scrape, keyed by (sample name, sorted labels)."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(scraped: Samples, name: str, **labels: str) -> float:
    return scraped.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_show_requests_by_kind_a_round_start_and_its_deliveries(
    sandbox: Sandbox,
) -> None:
    before = samples(scrape(sandbox))
    families = {f.name for f in text_string_to_metric_families(scrape(sandbox))}
    assert {
        "peercoach_slack_request_seconds",
        "peercoach_slack_slow_acks",
        "peercoach_listener_errors",
        "peercoach_deliveries",
        "peercoach_slack_rate_limited",
        "peercoach_round_start_seconds",
        "peercoach_scheduler_lease_held",
        "peercoach_outbox_depth",
        "peercoach_outbox_oldest_pending_age_seconds",
        "peercoach_metrics_database_up",
    } <= families

    sandbox.join("U001")
    sandbox.join("U002")
    sandbox.people.open_home("U001")
    go_to(sandbox, MONDAY_9)
    sandbox.tick()
    after = samples(scrape(sandbox))

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("peercoach_slack_request_seconds_count", kind="command") == 2
    assert grew("peercoach_slack_request_seconds_count", kind="view") == 2
    assert grew("peercoach_slack_request_seconds_count", kind="event") == 1
    assert grew("peercoach_round_start_seconds_count", kind="scheduled") == 1
    # Two welcome DMs (joins go through the outbox) and one intro for the pair.
    assert grew("peercoach_deliveries_total", outcome="sent") == 3
    assert value(after, "peercoach_metrics_database_up") == 1


def test_outbox_depth_and_age_by_kind_are_read_from_the_database_when_scraped(
    sandbox: Sandbox,
) -> None:
    sandbox.join("U001")
    sandbox.join("U002")
    go_to(sandbox, MONDAY_9)
    with sandbox.deps.unit_of_work() as session:
        workspace = first_programme(session)
        assert workspace is not None
        start_round(session, workspace, now=MONDAY_9, period_key="p", kind="manual")
    sandbox.clock.advance(seconds=90)

    waiting = samples(scrape(sandbox))
    sandbox.delivery.run()
    sent = samples(scrape(sandbox))

    assert value(waiting, "peercoach_outbox_depth", kind="intro") == 1
    assert value(waiting, "peercoach_outbox_oldest_pending_age_seconds", kind="intro") == 90
    assert ("peercoach_outbox_depth", (("kind", "intro"),)) not in sent


def test_slack_429s_and_listener_errors_are_counted(sandbox: Sandbox) -> None:
    sandbox.join("U001")
    sandbox.join("U002")
    before = samples(scrape(sandbox))
    sandbox.emulator.rate_limit_next("chat.postMessage", retry_after=2)
    go_to(sandbox, MONDAY_9)
    sandbox.tick()  # delivery waits the 429 out on the manual clock
    # The data export fails in the work after the command's ack (Slack refuses the upload).
    sandbox.emulator.fail_next("conversations.open", "internal_error")
    sandbox.people.command("U001", "my-data")
    sandbox.settle()
    after = samples(scrape(sandbox))

    limited = "peercoach_slack_rate_limited_total"
    assert (
        value(after, limited, method="chat.postMessage")
        - value(before, limited, method="chat.postMessage")
        == 1
    )
    errors = "peercoach_listener_errors_total"
    assert value(after, errors, kind="command") - value(before, errors, kind="command") == 1


def test_the_process_holding_the_scheduler_lease_says_so(sandbox: Sandbox) -> None:
    scheduler = RoundScheduler(sandbox.deps)
    scheduler.run_once()
    holding = samples(scrape(sandbox))
    scheduler.shutdown()
    released = samples(scrape(sandbox))

    assert value(holding, "peercoach_scheduler_lease_held") == 1
    assert value(holding, "peercoach_scheduler_lease_holder", holder=scheduler.holder) == 1
    assert value(holding, "peercoach_scheduler_lease_seconds_left") == 180
    assert value(released, "peercoach_scheduler_lease_held") == 0
    assert value(released, "peercoach_scheduler_lease_holder", holder=scheduler.holder) == 0


def test_metrics_need_the_bearer_token_when_one_is_set(sandbox: Sandbox) -> None:
    settings = sandbox.settings.model_copy(update={"metrics_token": SecretStr("s3cret-token")})
    wsgi = make_wsgi_app(sandbox.app, sandbox.engine, settings)

    refused = call_wsgi(wsgi, "GET", "/metrics")
    wrong = call_wsgi(wsgi, "GET", "/metrics", headers={"Authorization": "Bearer nope"})
    allowed = call_wsgi(wsgi, "GET", "/metrics", headers={"Authorization": "Bearer s3cret-token"})

    assert (refused.status, wrong.status, allowed.status) == (401, 401, 200)
    assert b"peercoach_deliveries_total" in allowed.body


def test_a_scrape_answers_even_when_the_database_does_not(sandbox: Sandbox, tmp_path) -> None:
    unreachable = make_engine(f"sqlite:///{tmp_path / 'missing' / 'nowhere.db'}")
    wsgi = make_wsgi_app(sandbox.app, unreachable, sandbox.settings)

    response = call_wsgi(wsgi, "GET", "/metrics")

    scraped = samples(response.body.decode())
    assert response.status == 200
    assert value(scraped, "peercoach_metrics_database_up") == 0
    assert value(scraped, "peercoach_deliveries_total", outcome="sent") >= 0


def test_no_metric_carries_what_people_wrote_their_names_or_ids(sandbox: Sandbox) -> None:
    sandbox.emulator.add_user("UQUOKKA77", name="quentin-quokkaface")
    sandbox.join("UQUOKKA77", team="Zanzibar Marmalade Guild", goals=["delegation"])
    sandbox.join("U002", team="Xylophone Orchard Crew")
    go_to(sandbox, MONDAY_9)
    sandbox.tick()
    press(sandbox, "UQUOKKA77", ids.OPEN_REFLECTION, intros(sandbox)[0])
    sandbox.settle()
    view = sandbox.emulator.calls_to("views.open")[-1].response["view"]
    sandbox.people.submit(
        "UQUOKKA77",
        view,
        reflection_values("5", "Periwinkle takeaway nobody may see", "Commit to Tangerine plan"),
    )
    sandbox.settle()
    with sandbox.deps.unit_of_work() as session:
        assert session.scalar(select(Reflection.takeaway)) == "Periwinkle takeaway nobody may see"
    sandbox.clock.advance(timedelta(days=3))
    sandbox.tick()  # follow-ups go out too

    text = scrape(sandbox).lower()
    assert 'peercoach_slack_request_seconds_count{kind="view"}' in text  # the scrape is real

    for written in (
        "zanzibar",
        "marmalade",
        "xylophone",
        "orchard",
        "periwinkle",
        "tangerine",
        "quokka",
        "quentin",
        "uquokka77",
        "u002",
        "leader2",
        "delegation",
    ):
        assert written not in text, f"{written!r} is on /metrics"

"""Trust rules over HTTP: signatures, no smuggled pings, Slack limits, 429s, errors, ack timing."""

import logging
import time

import pytest
from sqlalchemy import text

from handlers.listeners.commands import NOT_STORED, QUEUE_FAILED
from sandbox.fake_slack import FakeSlack
from sandbox.signed_client import SignedClient
from storage.db import make_engine
from tests.conftest import ALICE, BOB, CAROL, SIGNING_SECRET, TEAM
from tests.handlers.scenario import cards, command, ephemerals, notes, rendered, set_up_team


def test_requests_with_a_bad_or_stale_signature_are_rejected(
    slack: SignedClient, fake: FakeSlack
) -> None:
    forged = SignedClient(slack.request_url, "not-the-secret", fake, transport=slack.transport)
    assert forged.command("/role", "", CAROL, TEAM).status_code == 401

    body = "command=%2Frole&text=&user_id=UCAROL&channel_id=CLAUNCH"
    stale = str(int(time.time()) - 600)
    signature = forged.verifier.__class__(SIGNING_SECRET).generate_signature(
        timestamp=stale, body=body
    )
    response = slack.http.post(
        slack.request_url,
        content=body,
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": stale,
            "X-Slack-Signature": str(signature),
        },
    )
    assert response.status_code == 401
    assert fake.calls_to("chat.postMessage") == []


def test_url_verification_and_health(slack: SignedClient) -> None:
    response = slack.post(
        '{"token":"t","challenge":"abc123","type":"url_verification"}', "application/json"
    )
    assert response.json() == {"challenge": "abc123"}
    assert slack.http.get("http://rolecall.test/healthz").json() == {"ok": True}


def test_user_text_cannot_ping_the_channel(slack: SignedClient, fake: FakeSlack) -> None:
    set_up_team(slack, fake)
    hostile = (
        "<!channel> <!here> <!everyone> <!subteam^S123|@eng> &lt;!channel&gt; "
        "ask <@UERIN|erin> in <#CLAUNCH|launch>, see <https://example.com/a?b=1&amp;c=2|docs>"
    )
    reply = command(slack, fake, "/feedback", hostile, CAROL)
    slack.say(TEAM, CAROL, "blocker: " + hostile)
    fake.wait_for(lambda: len(cards(fake, ALICE)) == 1 and len(cards(fake, BOB)) == 1)

    assert "sent to @alice" in reply
    card_text = str(cards(fake, ALICE)[0]["blocks"])
    assert (
        "&lt;!channel&gt; &lt;!here&gt; &lt;!everyone&gt; &lt;!subteam^S123|@eng&gt;" in card_text
    )
    assert "<@UERIN>" in card_text and "<#CLAUNCH>" in card_text
    assert "<https://example.com/a?b=1&amp;c=2|docs>" in card_text
    assert "ask @erin in #launch, see docs" in rendered(fake, cards(fake, BOB)[0])
    # The fake fixture also asserts that no payload anywhere carried a broadcast mention.


@pytest.mark.parametrize("length", [2_999, 3_001, 12_000, 39_990])
def test_long_text_is_truncated_within_slack_limits(
    slack: SignedClient, fake: FakeSlack, length: int
) -> None:
    set_up_team(slack, fake)
    text = ("word & <b> " * (length // 11 + 1))[:length]
    quote, _ = slack.say(TEAM, CAROL, text)
    slack.react(TEAM, CAROL, quote["ts"], "bulb")
    fake.wait_for(lambda: len(cards(fake, ALICE)) == 1)

    section = cards(fake, ALICE)[0]["blocks"][1]["text"]["text"]
    assert len(section) <= 3000
    assert section.endswith("|Read the full message>")
    fake.wait_for(lambda: len(ephemerals(fake, CAROL)) == 1)


def test_a_rate_limited_post_is_retried_after_retry_after(
    slack: SignedClient, fake: FakeSlack
) -> None:
    set_up_team(slack, fake)
    fake.rate_limit_next("chat.postMessage", retry_after=0, times=2)

    command(slack, fake, "/feedback", "throttled but not lost", CAROL)

    fake.wait_for(lambda: len(cards(fake, ALICE)) == 1)
    attempts = [c for c in fake.calls if c.method == "chat.postMessage"]
    assert [c.status for c in attempts[-3:]] == [429, 429, 200]


def test_web_api_errors_are_logged_with_method_and_code_and_the_item_stays_queued(
    slack: SignedClient, fake: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    set_up_team(slack, fake)
    fake.fail_next("chat.postMessage", "channel_not_found")

    with caplog.at_level(logging.ERROR):
        command(slack, fake, "/feedback", "lost in transit?", CAROL)
        fake.wait_for(lambda: any("channel_not_found" in r.message for r in caplog.records))

    assert "Slack chat.postMessage failed: channel_not_found" in caplog.text
    assert "xoxb-test-token" not in caplog.text
    command(slack, fake, "/role", f"<@{CAROL}> product", ALICE)
    fake.wait_for(lambda: len(cards(fake, CAROL)) == 1)
    assert "lost in transit?" in rendered(fake, cards(fake, CAROL)[0])


def test_commands_are_acked_before_slow_slack_calls(wire: SignedClient, fake: FakeSlack) -> None:
    """Over the wire, as served: the ack does not wait for the Web API work."""
    set_up_team(wire, fake)
    slow_slack = fake.hold("chat.postMessage")

    response = wire.command("/feedback", "acked while Slack is slow", CAROL, TEAM)

    assert response.status_code == 200
    assert "sent to <@UALICE>" in response.text
    assert cards(fake, ALICE) == []
    slow_slack.set()
    fake.wait_for(lambda: len(cards(fake, ALICE)) == 1)


def test_an_unexpected_failure_gets_an_apology_not_silence(
    slack: SignedClient, fake: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    set_up_team(slack, fake)
    fake.fail_next("users.info", "fatal_error")

    with caplog.at_level(logging.ERROR):
        reply = command(slack, fake, "/role", f"<@{CAROL}> product", ALICE)

    assert reply.startswith("Sorry, something went wrong on my side")
    assert "Slack users.info failed: fatal_error" in caplog.text
    assert "command=/role" in caplog.text


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("/feedback", "", "Usage: `/feedback <text>`"),
        ("/blocker", "   ", "Usage: `/blocker <text>`"),
        ("/feedback", "help", "Usage: `/feedback <text>`"),
        ("/rolecall", "launch rockets", "Usage: `/rolecall settings`"),
        ("/rolecall", "emoji idea :star:", "Usage: `/rolecall settings`"),
        ("/rolecall", "queue product nowhere", "Usage: `/rolecall settings`"),
    ],
)
def test_bad_input_is_a_usage_reply(
    slack: SignedClient, fake: FakeSlack, name: str, text: str, expected: str
) -> None:
    assert command(slack, fake, name, text, CAROL).startswith(expected)
    assert fake.calls_to("chat.postMessage") == []


def test_commands_in_a_dm_point_to_the_team_channel(slack: SignedClient, fake: FakeSlack) -> None:
    response = slack.command("/feedback", "from a DM", CAROL, "DCAROL")
    assert response.text == "Rolecall works in channels: run this in your team's channel."
    assert notes(fake, ALICE) == []


def test_app_home_shows_your_roles(slack: SignedClient, fake: FakeSlack) -> None:
    set_up_team(slack, fake)
    slack.event(
        {
            "type": "app_home_opened",
            "user": ALICE,
            "channel": "DALICE",
            "tab": "home",
            "event_ts": "1.0",
        }
    )
    fake.wait_for(lambda: ALICE in fake.home_views)
    home = str(fake.home_views[ALICE])
    assert "product manager in <#CLAUNCH>" in home


def test_a_failure_before_the_ack_is_an_ephemeral_apology_not_a_500(
    slack: SignedClient, fake: FakeSlack, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("breaks the schema on purpose; the shared PostgreSQL schema must survive")
    engine = make_engine(database_url)
    with engine.begin() as connection:
        connection.execute(text("ALTER TABLE item RENAME TO item_gone"))
    engine.dispose()

    with caplog.at_level(logging.ERROR):
        filing = slack.command("/feedback", "the database is broken", CAROL, TEAM)
        listing = slack.command("/feedback", "list", CAROL, TEAM)

    assert filing.status_code == 200
    assert filing.text == NOT_STORED.format(kind="feedback")
    assert listing.status_code == 200
    assert listing.text == QUEUE_FAILED
    assert "the database failed before the ack: command=/feedback channel=CLAUNCH" in caplog.text

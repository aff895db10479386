"""The digest names people and mentions nobody: names escaped for mrkdwn, everyone it shows
read from Slack once per build, kept a short while, bounded, and a failed read is "someone"."""

import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from slack_sdk import WebClient

from bot.blocks.common import Names
from bot.blocks.digest import people, product_reply, project_reply
from bot.people import SlackNames
from sandbox.block_kit import BROADCAST, MESSAGE_BLOCK_LIMIT, block_kit_errors
from sandbox.fake_slack import FakeSlack
from storage.digest import Counted, FeedbackCounts, ProductDigest, ProjectDigest
from storage.items import QueuedItem
from storage.models import Deadline, ItemKind, ItemStatus, Milestone
from storage.planning import TrackedMilestone
from storage.queues import Risks
from tests.bot.test_blocks import make_item
from tests.bot.test_digest_roles import risk
from tests.conftest import FixedClock

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
PERIOD = "30 Nov \N{EN DASH} 6 Dec"
EMPTY = Counted([], 0)


def test_a_name_is_plain_escaped_text_and_a_person_without_one_is_someone() -> None:
    names = Names(
        {
            "U1": "<!channel> *boss* _x_ ~y~ `z`",
            "U2": "A &amp; <@U3>",
            "U3": "  ",
            "U4": "n" * 200,
        }
    )

    assert names("U1") == (
        "&lt;!channel&gt; \N{ASTERISK OPERATOR}boss\N{ASTERISK OPERATOR} "
        "\N{MODIFIER LETTER LOW MACRON}x\N{MODIFIER LETTER LOW MACRON} "
        "\N{TILDE OPERATOR}y\N{TILDE OPERATOR} "
        "\N{MODIFIER LETTER GRAVE ACCENT}z\N{MODIFIER LETTER GRAVE ACCENT}"
    )
    assert names("U2") == "A &amp;amp; &lt;@U3&gt;"  # shown as typed, pings nobody
    assert names("U3") == names("U9") == names(None) == "someone"
    assert names("U4") == "n" * 79 + "…"
    assert names.text("ask <@U2> and <@U9> about <#C1>") == (
        "ask A &amp;amp; &lt;@U3&gt; and someone about <#C1>"
    )


def test_everyone_a_digest_shows_is_read_with_those_mentioned_in_what_they_typed() -> None:
    waiting = make_item("Ask <@UTYPED|typed> about SSO", id=1, reporter_id="UREP")
    owned = make_item(
        "Staging",
        kind=ItemKind.BLOCKER,
        id=2,
        reporter_id="UREP2",
        status=ItemStatus.ACKNOWLEDGED,
        handled_by="UOWN",
    )
    resolved = make_item("Fixed", kind=ItemKind.BLOCKER, id=3, handled_by="UFIX")
    beta = Milestone(
        id=1,
        team_channel_id="C1",
        name="Beta for <@UMS>",
        name_key="beta",
        due_date=NOW.date(),
        owner_id="UOWNER",
        created_by="U1",
        created_at=NOW,
        scheduled_at=NOW,
    )
    task = Deadline(
        id=1,
        team_channel_id="C1",
        task="Post",
        due_date=NOW.date(),
        assignee_id="UDUE",
        created_by="U1",
        created_at=NOW,
        scheduled_at=NOW,
    )
    product = ProductDigest(
        FeedbackCounts({ItemStatus.OPEN: 1}, 1, 0),
        [],
        [QueuedItem(waiting, 0)],
        EMPTY,
        market_risks=Risks([risk(4, assignee_id="URISK")], 1),
    )
    project = ProjectDigest(
        Counted([QueuedItem(owned, 0)], 1),
        Counted([QueuedItem(resolved, 0)], 1),
        [],
        [TrackedMilestone(beta, 0)],
        [task],
        1,
    )

    named = people(product, project)

    assert {"UREP", "UTYPED", "UREP2", "UOWN", "UFIX", "UOWNER", "UMS", "UDUE", "URISK"} <= named
    names = Names({user: user.lower()[1:] for user in named | {"UPM"}})
    blocks = [
        *product_reply("C1", ["UPM"], product, NOW, PERIOD, names).blocks,
        *project_reply("C1", [], project, NOW, NOW.date(), PERIOD, names).blocks,
    ]
    text = json.dumps(blocks, ensure_ascii=False)
    assert "<@" not in text and "someone" not in text
    for shown in ("for pm (product", "Ask typed about SSO", "_rep · ", "owned by own", "by fix"):
        assert shown in text
    for shown in ("Beta for ms* — Mon 7 Dec 2026 · owner", "Post* — Mon 7 Dec 2026 · due"):
        assert shown in text
    assert "owner risk" in text
    assert block_kit_errors(blocks, MESSAGE_BLOCK_LIMIT) == [] and not BROADCAST.search(text)


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack() as slack:
        slack.add_user("UANN", "Ann Lee")
        slack.add_user("UBO", "bo")
        yield slack


def reads(fake: FakeSlack) -> list[str]:
    """Whose names were asked for, failed reads included."""
    return [call.params["user"] for call in fake.calls if call.method == "users.info"]


def slack_names(fake: FakeSlack, clock: FixedClock, size: int = 100) -> SlackNames:
    client = WebClient(token="xoxb-test", base_url=fake.api_url)
    return SlackNames(client, clock, timedelta(minutes=10), size)


def test_names_come_from_the_profile_display_name_first(fake: FakeSlack) -> None:
    fake.users["UBO"]["profile"] = {"display_name": "", "real_name": "Bo Chen"}
    fake.add_user("UCY", "cy")
    fake.users["UCY"]["profile"] = {}
    fake.add_user("UDEE", "")

    names = slack_names(fake, FixedClock()).names(["UANN", "UBO", "UCY", "UDEE", "UGONE"])

    assert [names(user) for user in ("UANN", "UBO", "UCY", "UDEE", "UGONE")] == [
        "Ann Lee",
        "Bo Chen",
        "cy",
        "someone",  # no name at all
        "someone",  # Slack doesn't know them
    ]


def test_names_are_read_once_within_their_window(fake: FakeSlack) -> None:
    clock = FixedClock()
    names = slack_names(fake, clock)

    names.names(["UANN", "UBO", "UANN", "UGONE"])
    assert sorted(reads(fake)) == ["UANN", "UBO", "UGONE"]  # each once, however often shown
    clock.now += timedelta(minutes=9)
    assert names.names(["UANN", "UGONE"])("UANN") == "Ann Lee"
    assert len(reads(fake)) == 3  # kept, the unknown one too
    fake.users["UANN"]["profile"]["display_name"] = "Ann L."
    clock.now += timedelta(minutes=2)
    assert names.names(["UANN"])("UANN") == "Ann L."
    assert reads(fake)[3:] == ["UANN"]


def test_names_kept_are_bounded_the_least_recently_read_going_first(fake: FakeSlack) -> None:
    fake.add_user("UCY", "cy")
    names = slack_names(fake, FixedClock(), size=2)

    names.names(["UANN"])
    names.names(["UBO"])
    names.names(["UANN"])  # kept: now the most recently read
    names.names(["UCY"])  # UBO makes room
    names.names(["UANN", "UBO"])

    assert reads(fake) == ["UANN", "UBO", "UCY", "UBO"]


def test_a_failed_read_is_someone_logged_with_the_user_and_read_again_next_time(
    fake: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    names = slack_names(fake, FixedClock())
    fake.fail_next("users.info", "internal_error")

    with caplog.at_level(logging.WARNING, logger="bot.digest"):
        first = names.names(["UANN", "UBO"])

    assert (first("UANN"), first("UBO")) == ("someone", "bo")
    assert "users.info for UANN failed: internal_error" in caplog.text
    assert "xoxb" not in caplog.text
    assert names.names(["UANN"])("UANN") == "Ann Lee"  # not kept as someone

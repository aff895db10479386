"""The weekly digest thread: its content, triage from it, /digest, and Slack's limits."""

from bot.capture import Capture
from bot.tick import Ticker
from handlers.services import Services
from sandbox.fake_slack import FakeSlack
from sandbox.signed_client import SignedClient
from storage.models import ItemKind
from tests.conftest import ALICE, BOB, CAROL, ERIN, TEAM, FixedClock
from tests.handlers.scenario import (
    add_milestone,
    cards,
    command,
    digests,
    dm_texts,
    ephemerals,
    file_some,
    item_id,
    plan,
    posts,
    rendered,
    set_up_team,
    thread,
    tick,
    utc,
)


def test_weekly_digest_thread_with_one_reply_per_role(
    slack: SignedClient, fake: FakeSlack, ticker: Ticker, clock: FixedClock
) -> None:
    set_up_team(slack, fake)
    command(slack, fake, "/milestone", "add Beta 2026-12-04", BOB)
    tick(ticker, clock, utc(11, 30, 8, 59))
    assert posts(fake) == []  # the team was formed after last week's slot: no digest owed
    clock.now = utc(12, 2, 10)
    file_some(slack, fake)

    tick(ticker, clock, utc(12, 7, 9))  # next Monday, 09:00 UTC (the team's default)
    tick(ticker, clock, utc(12, 7, 9, 1))

    [parent] = digests(fake)
    assert rendered(fake, parent).splitlines()[0] == "Weekly digest — week of Mon 7 Dec 2026"
    product, project = (rendered(fake, m) for m in thread(fake, parent))
    assert product.splitlines()[:2] == [
        ":bulb: *Product* — for @alice (product manager)",
        "*Feedback filed this week: 2* (2 open)",
    ]
    assert "Dark mode <!channel>" in product  # shown as typed; the fixture checks nobody was pinged
    assert "[Plan] [Decline] [Duplicate]" in product
    assert project.splitlines()[0] == ":no_entry: *Project* — for @bob (project manager)"
    assert "*#3* Staging is down" in project and "[Acknowledge] [Resolve]" in project
    assert "*Milestones due in the next 14 days*\n_Nothing due in the next 14 days._" in project
    assert "*Overdue milestones and deadlines*\n• *Beta* — Fri 4 Dec 2026 · *3d overdue*" in project
    assert "*Most +1'd*\n_Nothing here this week._" in product


def test_triage_from_the_digest_updates_that_row_the_card_and_tells_the_reporter(
    slack: SignedClient, fake: FakeSlack, ticker: Ticker, clock: FixedClock, services: Services
) -> None:
    set_up_team(slack, fake)
    file_some(slack, fake)
    tick(ticker, clock, utc(12, 7, 9))
    parent = posts(fake)[-1]
    product = thread(fake, parent)[0]
    actions = next(b for b in product["blocks"] if b.get("block_id") == "waiting_actions_1")
    beta = add_milestone(slack, fake, services, due="2026-12-21")

    item = actions["elements"][0]["value"]
    plan(slack, fake, ALICE, TEAM, product["ts"], item, beta, block_id="waiting_actions_1")

    fake.wait_for(lambda: len(fake.calls_to("chat.update")) == 2)
    updated = rendered(fake, thread(fake, parent)[0])
    assert "*Planned* by @alice" in updated
    assert updated.count("[Plan] [Decline] [Duplicate]") == 1  # item 2 keeps its buttons
    assert "*Planned* by @alice" in rendered(fake, cards(fake, ALICE)[0])
    fake.wait_for(lambda: any("was planned by @alice" in t for t in dm_texts(fake, CAROL)))


def test_triage_from_a_card_updates_the_row_in_the_latest_digest_too(
    slack: SignedClient, fake: FakeSlack, ticker: Ticker, clock: FixedClock
) -> None:
    set_up_team(slack, fake)
    file_some(slack, fake)
    tick(ticker, clock, utc(12, 7, 9))
    parent = posts(fake)[-1]
    card = next(c for c in cards(fake, BOB) if "Staging is down" in rendered(fake, c))

    slack.click(BOB, fake.dm_channel(BOB), card["ts"], "item_acknowledge", item_id(card))

    fake.wait_for(lambda: "*Acknowledged* by @bob" in rendered(fake, thread(fake, parent)[1]))
    assert "*Acknowledged* by @bob" in rendered(fake, cards(fake, BOB)[0])
    product = rendered(fake, thread(fake, parent)[0])
    assert "Acknowledged" not in product  # the other role's reply lists no blocker


def test_a_digest_that_fails_halfway_is_finished_in_the_same_thread_next_run(
    slack: SignedClient, fake: FakeSlack, ticker: Ticker, clock: FixedClock
) -> None:
    set_up_team(slack, fake)
    fake.fail_next("chat.postMessage", "internal_error", status=200, after=2)  # project reply

    tick(ticker, clock, utc(12, 7, 9))
    [parent] = posts(fake)
    assert len(thread(fake, parent)) == 1
    tick(ticker, clock, utc(12, 7, 9, 1))

    assert posts(fake) == [parent]
    replies = thread(fake, parent)
    assert [r["text"].split(" digest")[0] for r in replies] == ["Product", "Project"]


def test_digest_preview_post_and_schedule(
    slack: SignedClient, fake: FakeSlack, ticker: Ticker, clock: FixedClock
) -> None:
    set_up_team(slack, fake)
    file_some(slack, fake)

    before = len(ephemerals(fake, ERIN))
    slack.command("/digest", "", ERIN, TEAM)
    fake.wait_for(lambda: len(ephemerals(fake, ERIN)) == before + 3)
    preview = ephemerals(fake, ERIN)[before:]
    assert preview[0].startswith("Weekly digest — week of Mon 30 Nov 2026")
    assert preview[1].startswith(":bulb: *Product*") and preview[2].startswith(":no_entry:")
    assert posts(fake) == []

    refused = command(slack, fake, "/digest", "post", ERIN)
    assert refused.startswith("Sorry, only the people who hold a role in #launch")
    assert command(slack, fake, "/digest", "post", BOB) == "Posted this week's digest in #launch."
    assert len(posts(fake)) == 1 and len(thread(fake, posts(fake)[0])) == 2

    schedule = command(slack, fake, "/digest", "schedule friday 16:00 Europe/Berlin", BOB)
    assert schedule == "The weekly digest for #launch runs every Friday at 16:00 (Europe/Berlin)."
    tick(ticker, clock, utc(12, 4, 14, 59))
    assert len(digests(fake)) == 1
    tick(ticker, clock, utc(12, 4, 15))
    assert len(digests(fake)) == 2


def test_a_digest_of_hundreds_of_items_stays_within_slacks_limits(
    fake: FakeSlack, services: Services, clock: FixedClock, slack: SignedClient
) -> None:
    """The fake rejects any payload over Slack's limits; the fixture asserts nothing was."""
    set_up_team(slack, fake)
    long_text = "Customers keep asking for exports &amp; more <https://example.com|docs> " * 60
    for n in range(300):  # filed without their cards: only the digest is looked at
        services.capture.file(Capture(ItemKind.FEEDBACK, f"{n} {long_text}", TEAM, CAROL))
    for n in range(120):
        services.capture.file(Capture(ItemKind.BLOCKER, f"{n} {long_text}", TEAM, ERIN))
    for n in range(40):
        command(slack, fake, "/milestone", f"add {'M' * 140}{n} 2026-12-0{1 + n % 9}", BOB)
    assert len(command(slack, fake, "/milestone", "list", BOB).splitlines()) == 1 + 40
    ticker = services.ticker

    tick(ticker, clock, utc(12, 7, 9))

    [parent] = digests(fake)
    product, project = thread(fake, parent)
    assert "…and 295 more: `/feedback list` in #launch lists them." in rendered(fake, product)
    assert "…and 115 more: `/blocker list` in #launch lists them." in rendered(fake, project)
    assert "…and 2 more.\n*Overdue milestones" in rendered(fake, project)  # 12 due soon
    assert rendered(fake, project).endswith("…and 18 more.")  # 28 overdue

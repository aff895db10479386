"""The weekly digest thread: its content, triage from it, /digest, and Slack's limits."""

from bot.capture import Capture
from bot.tick import Ticker
from handlers.services import Services
from sandbox.block_kit import MESSAGE_BLOCK_LIMIT, block_kit_errors
from sandbox.fake_slack import FakeSlack
from sandbox.signed_client import SignedClient, state_values
from storage.models import ItemKind
from tests.conftest import ALICE, BOB, CAROL, DAVE, ERIN, TEAM, FixedClock
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

# The periods the digests cover, as their labels read (with an en dash).
LAST_WEEK = "30 Nov \N{EN DASH} 6 Dec"  # posted Monday 7 Dec
TILL_MONDAY = "24 \N{EN DASH} 30 Nov"  # asked for on Monday 30 Nov


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
    assert rendered(fake, parent).splitlines()[0] == f"Weekly digest — {LAST_WEEK}"
    product, project = (rendered(fake, m) for m in thread(fake, parent))
    assert product.splitlines()[:3] == [
        ":bulb: *Product* — for alice (product manager)",
        f"*Feedback filed {LAST_WEEK}: 2* (2 open)",
        "_2 of them are listed below._",
    ]
    assert "Dark mode <!channel>" in product  # shown as typed; the fixture checks nobody was pinged
    assert "[Plan] [Decline] [Duplicate]" in product
    assert project.splitlines()[0] == ":no_entry: *Project* — for bob (project manager)"
    assert "*#3* Staging is down" in project and "[Acknowledge] [Resolve]" in project
    assert "*Milestones due in the next 14 days*\n_Nothing due in the next 14 days._" in project
    assert "*Overdue milestones and deadlines*\n• *Beta* — Fri 4 Dec 2026 · *3d overdue*" in project
    assert "*Most +1'd open feedback* (0)\n_No open feedback has a +1 yet._" in product
    assert f"*Blockers resolved {LAST_WEEK}* (0)\n_None resolved._" in project


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
    assert "*Planned* by alice" in updated  # named in the digest, mentioned on the card
    assert updated.count("[Plan] [Decline] [Duplicate]") == 1  # item 2 keeps its buttons
    assert "*Planned* by @alice" in rendered(fake, cards(fake, ALICE)[0])
    fake.wait_for(lambda: any("was planned by @alice" in t for t in dm_texts(fake, CAROL)))
    # The headings were recounted: one of the two is no longer waiting.
    assert "*Waiting for triage longest* (1 open)" in updated
    assert f"*Feedback filed {LAST_WEEK}: 2* (1 open, 1 planned)" in updated


def test_triage_from_a_card_updates_the_row_in_the_latest_digest_too(
    slack: SignedClient, fake: FakeSlack, ticker: Ticker, clock: FixedClock
) -> None:
    set_up_team(slack, fake)
    file_some(slack, fake)
    tick(ticker, clock, utc(12, 7, 9))
    parent = posts(fake)[-1]
    card = next(c for c in cards(fake, BOB) if "Staging is down" in rendered(fake, c))

    slack.click(BOB, fake.dm_channel(BOB), card["ts"], "item_acknowledge", item_id(card))

    fake.wait_for(lambda: "*Acknowledged* by bob" in rendered(fake, thread(fake, parent)[1]))
    assert "*Acknowledged* by @bob" in rendered(fake, cards(fake, BOB)[0])
    product = rendered(fake, thread(fake, parent)[0])
    assert "Acknowledged" not in product  # the other role's reply lists no blocker


def test_a_row_snoozed_from_the_digest_shows_the_day_picked_in_the_teams_zone(
    slack: SignedClient, fake: FakeSlack, ticker: Ticker, clock: FixedClock
) -> None:
    set_up_team(slack, fake)
    command(slack, fake, "/rolecall", "timezone Australia/Sydney", ALICE)
    file_some(slack, fake)
    tick(ticker, clock, utc(12, 6, 22))  # Mon 7 Dec, 09:00 in Sydney: the digest's slot
    parent = digests(fake)[-1]
    product = thread(fake, parent)[0]
    row = next(
        b
        for b in product["blocks"]
        if b["type"] == "actions" and any(e["action_id"] == "item_snooze" for e in b["elements"])
    )
    snooze = next(e for e in row["elements"] if e["action_id"] == "item_snooze")
    slack.click(ALICE, TEAM, product["ts"], "item_snooze", snooze["value"])
    fake.wait_for(lambda: bool(fake.open_views(ALICE)))
    view = fake.open_views(ALICE)[-1]
    answers = state_values(view, {"until": "2026-12-14"})  # 09:00 there: 22:00 UTC, 13 Dec
    assert slack.view_submission(view, ALICE, answers).status_code == 200

    fake.wait_for(lambda: "Snoozed" in rendered(fake, thread(fake, parent)[0]))
    assert "*Snoozed* until Mon 14 Dec 2026 by alice" in rendered(fake, thread(fake, parent)[0])


def test_a_digest_that_fails_halfway_is_finished_in_the_same_thread_next_run(
    slack: SignedClient, fake: FakeSlack, ticker: Ticker, clock: FixedClock
) -> None:
    set_up_team(slack, fake)
    command(slack, fake, "/feedback", "SSO for Acme", CAROL)  # something to say
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
    assert preview[0].startswith(f"Weekly digest — {TILL_MONDAY}")  # the last 7 days, today too
    assert f"*Feedback filed {TILL_MONDAY}: 2* (2 open)" in preview[1]
    assert preview[1].startswith(":bulb: *Product*") and preview[2].startswith(":no_entry:")
    assert posts(fake) == []

    refused = command(slack, fake, "/digest", "post", ERIN)
    assert refused.startswith("Sorry, only the people who hold a role in #launch")
    assert command(slack, fake, "/digest", "post", BOB) == (
        f"Posted the digest of {TILL_MONDAY} in #launch."
    )
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


def test_resolving_a_blocker_in_the_thread_recounts_the_open_blockers(
    slack: SignedClient, fake: FakeSlack, ticker: Ticker, clock: FixedClock
) -> None:
    set_up_team(slack, fake)
    file_some(slack, fake)
    command(slack, fake, "/blocker", "CI is red", ERIN)
    tick(ticker, clock, utc(12, 7, 9))
    [parent] = digests(fake)
    project = thread(fake, parent)[1]
    assert "*Open blockers, oldest first* (2)" in rendered(fake, project)

    slack.click(BOB, TEAM, project["ts"], "item_resolve", "3", block_id="blocker_actions_3")
    fake.wait_for(lambda: len(fake.open_views(BOB)) == 1)
    view = fake.open_views(BOB)[0]
    slack.view_submission(view, BOB, state_values(view, {"reason": "Rebuilt staging"}))

    fake.wait_for(lambda: "*Resolved* by bob" in rendered(fake, thread(fake, parent)[1]))
    updated = rendered(fake, thread(fake, parent)[1])
    assert "*Open blockers, oldest first* (1)" in updated
    assert "[Acknowledge] [Resolve]" in updated  # CI is red keeps its buttons
    assert block_kit_errors(thread(fake, parent)[1]["blocks"], MESSAGE_BLOCK_LIMIT) == []


def test_counts_add_up_to_the_rows_and_each_item_is_shown_once(
    slack: SignedClient, fake: FakeSlack, ticker: Ticker, clock: FixedClock, services: Services
) -> None:
    set_up_team(slack, fake)
    wishes = [f"Wish {letter}" for letter in "ABCDEFGHIJKL"]  # items 1 to 12, oldest first
    for n, wish in enumerate(wishes, start=1):
        clock.now = utc(12, 1, n)
        services.capture.file(Capture(ItemKind.FEEDBACK, wish, TEAM, CAROL))
    votes = {12: 7, 11: 6, 9: 5, 7: 4, 5: 3, 3: 2, 1: 1}  # seven items +1'd
    for item, count in votes.items():
        for voter in range(count):
            services.triage.items.add_vote(item, f"UVOTER{voter}", clock.now)

    tick(ticker, clock, utc(12, 7, 9))

    [parent] = digests(fake)
    message = thread(fake, parent)[0]
    product = rendered(fake, message)
    lines = product.splitlines()
    # Filed: 12 = the 2 listed here + the 10 listed below.
    filed = lines.index(f"*Feedback filed {LAST_WEEK}: 12* (12 open)")
    assert lines[filed + 1 : filed + 4] == [
        "• Wish J · #10",
        "• Wish H · #8",
        "_10 of them are listed below._",
    ]
    # Most +1'd: 7 = 5 rows + 2 more.
    voted = lines.index("*Most +1'd open feedback* (7)")
    rows = [line.split(" ", 1)[0] for line in lines[voted + 1 : voted + 16 : 3]]
    assert rows == ["*#12*", "*#11*", "*#9*", "*#7*", "*#5*"]
    assert lines[voted + 16] == "…and 2 more: `/feedback list` in #launch lists them."
    # Waiting: 12 open = the 5 above + 5 rows + 2 more (items 8 and 10).
    waiting = lines.index("*Waiting for triage longest* (12 open)")
    rows = [line.split(" ", 1)[0] for line in lines[waiting + 1 : waiting + 16 : 3]]
    assert rows == ["*#1*", "*#2*", "*#3*", "*#4*", "*#6*"]
    assert lines[waiting + 16] == (
        "…and 5 under Most +1'd above, and 2 more: `/feedback list` in #launch lists them."
    )
    for wish in wishes:
        assert product.count(wish) == 1, wish
    actions = [b for b in message["blocks"] if b["type"] == "actions"]
    assert len(actions) == 10  # one set of buttons per row, none twice


def test_an_owners_own_reaction_is_not_a_plus_one(
    slack: SignedClient, fake: FakeSlack, ticker: Ticker, clock: FixedClock, services: Services
) -> None:
    set_up_team(slack, fake)
    wish, _ = slack.say(TEAM, ERIN, "customers want dark mode")
    broken, _ = slack.say(TEAM, ERIN, "staging is down")
    slack.react(TEAM, CAROL, wish["ts"], "bulb")  # filed
    slack.react(TEAM, CAROL, broken["ts"], "no_entry")  # filed
    fake.wait_for(lambda: len(ephemerals(fake, CAROL)) == 2)

    seen = {person: len(ephemerals(fake, person)) for person in (ALICE, BOB, DAVE)}
    slack.react(TEAM, ALICE, wish["ts"], "bulb")  # the product manager's own feedback queue
    slack.react(TEAM, BOB, broken["ts"], "no_entry")  # the project manager's own blockers
    slack.react(TEAM, DAVE, wish["ts"], "bulb")  # someone else: a +1
    slack.react(TEAM, BOB, wish["ts"], "bulb")  # the other role's manager: a +1 too

    def told(person: str) -> list[str]:
        return ephemerals(fake, person)[seen[person] :]

    fake.wait_for(lambda: len(told(BOB)) == 2 and len(told(ALICE)) == len(told(DAVE)) == 1)
    queue = "That message is already in #launch's {} manager queue"
    assert told(ALICE) == [queue.format("product") + "."]
    assert told(BOB) == [
        queue.format("project") + ".",
        queue.format("product") + "; I counted your +1.",
    ]
    assert told(DAVE) == [queue.format("product") + "; I counted your +1."]
    assert services.triage.items.votes(1) == 2 and services.triage.items.votes(2) == 0
    tick(ticker, clock, utc(12, 7, 9))
    [parent] = digests(fake)
    product, project = (rendered(fake, m) for m in thread(fake, parent))
    assert "*Most +1'd open feedback* (1)\n*#1* customers want dark mode" in product
    assert "_carol · 7 days old · +2 · " in product
    assert "*#2* staging is down\n_carol · 7 days old · not acknowledged" in project  # no +1

"""The time loop end to end: commands over signed HTTP, ticks at chosen instants, and what people
see in the fake workspace (nudges, escalations, digest threads)."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.capture import Capture
from bot.outbox import Pacer
from bot.tick import CARD_RETRIES_PER_RUN, Ticker
from handlers.services import Services
from sandbox.fake_slack import FakeSlack
from sandbox.signed_client import SignedClient
from storage.models import ItemKind
from tests.conftest import ALICE, BOB, CAROL, DAVE, ERIN, TEAM, FixedClock
from tests.handlers.scenario import cards, command, ephemerals, item_id, rendered, set_up_team


def utc(month: int, day: int, hour: int = 0, minute: int = 0, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def posts(fake: FakeSlack, channel: str = TEAM) -> list[dict[str, Any]]:
    """Rolecall's top-level posts in a channel, oldest first."""
    return [
        m
        for m in fake.messages.get(channel, [])
        if m["user"] == fake.bot_user_id and not m.get("thread_ts")
    ]


def nudges(fake: FakeSlack) -> list[str]:
    """Rolecall's reminders and escalations in #launch, as people read them (no digests)."""
    return [rendered(fake, m) for m in posts(fake) if "Weekly digest" not in m["text"]]


def digests(fake: FakeSlack) -> list[dict[str, Any]]:
    return [p for p in posts(fake) if "Weekly digest" in p["text"]]


def thread(fake: FakeSlack, parent: dict[str, Any], channel: str = TEAM) -> list[dict[str, Any]]:
    return [m for m in fake.messages[channel] if m.get("thread_ts") == parent["ts"]]


def dm_texts(fake: FakeSlack, user: str) -> list[str]:
    return [rendered(fake, m) for m in fake.dms_to(user)]


def tick(ticker: Ticker, clock: FixedClock, at: datetime) -> None:
    clock.now = at
    ticker.tick(at)


# Commands -----------------------------------------------------------------------------------


def test_milestone_lifecycle_by_the_project_manager(
    slack: SignedClient, fake: FakeSlack, ticker: Ticker
) -> None:
    set_up_team(slack, fake)

    added = command(slack, fake, "/milestone", f"add Public beta 2026-12-02 <@{CAROL}|carol>", BOB)
    listed = command(slack, fake, "/milestone", "list", ERIN)
    moved = command(slack, fake, "/milestone", "move public  BETA 2026-12-09", BOB)
    done = command(slack, fake, "/milestone", "done Public beta", BOB)

    assert added == (
        "Milestone *Public beta* added for Wed 2 Dec 2026, owned by @carol. I'll nudge #launch "
        "the day before, on the day, and daily if it slips."
    )
    assert listed == "Open milestones in #launch:\n• *Public beta* — Wed 2 Dec 2026 · @carol"
    assert moved == (
        "Milestone *Public beta* moved from Wed 2 Dec 2026 to Wed 9 Dec 2026; its reminders "
        "follow the new date."
    )
    assert done == "Milestone *Public beta* is done. :tada: No more reminders for it."
    assert command(slack, fake, "/milestone", "", ERIN).startswith("#launch has no open milestones")


def test_only_project_managers_and_admins_plan_once_there_is_one(
    slack: SignedClient, fake: FakeSlack
) -> None:
    # No project manager yet: anyone may add.
    assert "added" in command(slack, fake, "/milestone", "add Alpha 2026-12-02", ERIN)
    set_up_team(slack, fake)

    refused = command(slack, fake, "/milestone", "add Beta 2026-12-03", ALICE)  # product manager
    assert refused.startswith("Sorry, only the project manager of #launch (or a workspace admin)")
    assert "added" in command(slack, fake, "/milestone", "add Beta 2026-12-03", DAVE)  # admin
    listed = command(slack, fake, "/milestone", "list", ERIN)
    assert "*Alpha*" in listed and "*Beta*" in listed


@pytest.mark.parametrize(
    ("text", "reply"),
    [
        ("add Beta 2026-11-29", "Sun 29 Nov 2026 is in the past (today is Mon 30 Nov 2026"),
        ("add Beta 2026-02-30", "`2026-02-30` is not a date on the calendar: use YYYY-MM-DD."),
        ("add Beta", "Usage: `/milestone add <name> <YYYY-MM-DD> [@owner]`"),
        (
            "move Gamma 2026-12-10",
            "#launch has no open milestone called *Gamma*. Open ones: *Beta*.",
        ),
        ("done Gamma", "#launch has no open milestone called *Gamma*"),
        ("add beta 2026-12-10", "#launch already has a milestone called *beta*"),
        ("add Launch 2026-12-10 <@UROLECALL>", "@rolecall can't own a milestone: pick a person."),
        ("add Launch 2026-12-10 <@UNOBODY>", "I can't find @UNOBODY in this workspace."),
    ],
)
def test_bad_milestone_input_gets_a_usage_reply_and_changes_nothing(
    slack: SignedClient, fake: FakeSlack, text: str, reply: str
) -> None:
    set_up_team(slack, fake)
    command(slack, fake, "/milestone", "add Beta 2026-12-05", BOB)

    assert command(slack, fake, "/milestone", text, BOB).startswith(reply)
    assert command(slack, fake, "/milestone", "list", BOB) == (
        "Open milestones in #launch:\n• *Beta* — Sat 5 Dec 2026"
    )


def test_a_blocker_naming_a_milestone_puts_it_at_risk(
    slack: SignedClient, fake: FakeSlack, ticker: Ticker, clock: FixedClock
) -> None:
    set_up_team(slack, fake)
    command(slack, fake, "/milestone", "add Public beta 2026-12-01", BOB)

    confirmation = command(slack, fake, "/blocker", "API keys missing #public beta", CAROL)

    assert confirmation.endswith("Linked to milestone *Public beta*, which is now at risk.")
    assert command(slack, fake, "/milestone", "list", BOB).endswith(
        "*Public beta* — Tue 1 Dec 2026 · :warning: *at risk*: 1 open blocker"
    )
    tick(ticker, clock, utc(11, 30, 9))
    assert nudges(fake)[-1] == (
        ":calendar: Milestone *Public beta* is due tomorrow (Tue 1 Dec 2026) · :warning: "
        "*at risk*: 1 open blocker"
    )


# Milestone nudges ---------------------------------------------------------------------------


def test_milestone_nudges_day_before_on_the_day_and_overdue_then_stop(
    slack: SignedClient, fake: FakeSlack, ticker: Ticker, clock: FixedClock
) -> None:
    set_up_team(slack, fake)
    command(slack, fake, "/rolecall", "timezone Europe/Berlin", BOB)
    command(slack, fake, "/milestone", "add Beta 2026-12-02", BOB)

    for at in [utc(12, 1, 7, 59), utc(12, 1, 8), utc(12, 1, 8, 1), utc(12, 1, 20)]:
        tick(ticker, clock, at)  # 09:00 Berlin is 08:00 UTC in winter
    assert nudges(fake) == [":calendar: Milestone *Beta* is due tomorrow (Wed 2 Dec 2026)"]
    tick(ticker, clock, utc(12, 2, 8))
    tick(ticker, clock, utc(12, 4, 8))
    assert nudges(fake)[1:] == [
        ":alarm_clock: Milestone *Beta* is due today",
        ":rotating_light: Milestone *Beta* is 2 days overdue (was due Wed 2 Dec 2026) · @bob, "
        "please re-plan or close it (`/milestone done`).",
    ]
    command(slack, fake, "/milestone", "done Beta", BOB)
    tick(ticker, clock, utc(12, 5, 8))
    assert len(nudges(fake)) == 3


def test_after_downtime_one_late_nudge_and_no_stale_ones(
    slack: SignedClient, fake: FakeSlack, ticker: Ticker, clock: FixedClock
) -> None:
    set_up_team(slack, fake)
    command(slack, fake, "/milestone", "add Beta 2026-12-02", BOB)

    tick(ticker, clock, utc(12, 5, 15))  # down since Monday morning
    tick(ticker, clock, utc(12, 5, 15, 1))

    assert nudges(fake) == [
        ":rotating_light: Milestone *Beta* is 3 days overdue (was due Wed 2 Dec 2026) · @bob, "
        "please re-plan or close it (`/milestone done`)."
    ]


def test_moving_a_milestone_cancels_its_pending_nudges(
    slack: SignedClient, fake: FakeSlack, ticker: Ticker, clock: FixedClock
) -> None:
    set_up_team(slack, fake)
    command(slack, fake, "/milestone", "add Beta 2026-12-02", BOB)
    clock.now = utc(12, 1, 7)
    command(slack, fake, "/milestone", "move Beta 2026-12-08", BOB)

    for day in range(1, 8):
        tick(ticker, clock, utc(12, day, 9))

    assert nudges(fake) == [":calendar: Milestone *Beta* is due tomorrow (Tue 8 Dec 2026)"]


def test_everything_due_in_one_channel_goes_out_as_one_message(
    slack: SignedClient, fake: FakeSlack, ticker: Ticker, clock: FixedClock
) -> None:
    set_up_team(slack, fake)
    for name in ("Alpha", "Beta", "Gamma"):
        command(slack, fake, "/milestone", f"add {name} 2026-12-01", BOB)

    tick(ticker, clock, utc(11, 30, 9))

    [post] = [p for p in posts(fake) if "Weekly digest" not in p["text"]]
    assert post["text"] == "3 reminders for <#CLAUNCH>"
    assert rendered(fake, post).splitlines() == [
        f":calendar: Milestone *{name}* is due tomorrow (Tue 1 Dec 2026)"
        for name in ("Alpha", "Beta", "Gamma")
    ]


@pytest.mark.parametrize(
    ("zone", "due", "start"),
    [
        ("America/New_York", (2027, 3, 15), utc(3, 12, year=2027)),  # spring-forward on 14 Mar
        ("Australia/Sydney", (2027, 4, 5), utc(4, 2, year=2027)),  # fall-back on 4 Apr
    ],
)
def test_ticking_every_half_hour_across_dst_posts_each_nudge_once_at_nine_local(
    slack: SignedClient,
    fake: FakeSlack,
    ticker: Ticker,
    clock: FixedClock,
    zone: str,
    due: tuple[int, int, int],
    start: datetime,
) -> None:
    set_up_team(slack, fake)
    command(slack, fake, "/rolecall", f"timezone {zone}", BOB)
    command(slack, fake, "/milestone", f"add Launch {datetime(*due):%Y-%m-%d}", BOB)

    posted_at: list[datetime] = []
    at = start
    while at < start + timedelta(days=6):
        before = len(nudges(fake))
        tick(ticker, clock, at)
        posted_at += [at] * (len(nudges(fake)) - before)
        at += timedelta(minutes=30)

    from zoneinfo import ZoneInfo

    local = [p.astimezone(ZoneInfo(zone)) for p in posted_at]
    assert [(t.day, t.hour, t.minute) for t in local] == [
        (due[2] + offset, 9, 0) for offset in (-1, 0, 1, 2, 3)
    ][: len(local)]
    assert len(local) >= 4


# Deadlines and escalations ------------------------------------------------------------------


def test_deadline_nudges_reach_the_assignee_at_nine_their_time_then_the_project_manager(
    slack: SignedClient, fake: FakeSlack, ticker: Ticker, clock: FixedClock
) -> None:
    fake.users[CAROL]["tz"] = "America/New_York"
    set_up_team(slack, fake)
    reply = command(slack, fake, "/deadline", f"Write the launch post 2026-12-01 <@{CAROL}>", ALICE)
    assert reply == (
        "Deadline `1` *Write the launch post* set for @carol on Tue 1 Dec 2026. I'll remind them "
        "by DM the day before and on the day (09:00 their time)."
    )

    fake.wait_for(lambda: len(dm_texts(fake, CAROL)) == 1)
    assert dm_texts(fake, CAROL) == [
        "@alice set you a deadline in #launch: *Write the launch post*, due Tue 1 Dec 2026. "
        "I'll remind you the day before and on the day."
    ]
    tick(ticker, clock, utc(11, 30, 13, 59))  # 08:59 in New York
    assert len(dm_texts(fake, CAROL)) == 1
    tick(ticker, clock, utc(11, 30, 14))
    tick(ticker, clock, utc(12, 1, 14))
    tick(ticker, clock, utc(12, 2, 14))

    assert dm_texts(fake, CAROL)[1:] == [
        ":calendar: Your deadline *Write the launch post* in #launch is due tomorrow "
        "(Tue 1 Dec 2026). `/deadline done 1` when it's finished.",
        ":alarm_clock: Your deadline *Write the launch post* in #launch is due today. "
        "`/deadline done 1` when it's finished.",
        ":rotating_light: Your deadline *Write the launch post* in #launch is 1 day overdue "
        "(was due Tue 1 Dec 2026). `/deadline done 1` when it's finished.",
    ]
    assert [t for t in dm_texts(fake, BOB) if "deadline" in t] == [
        ":rotating_light: @carol's deadline *Write the launch post* in #launch is 1 day overdue "
        "(was due Tue 1 Dec 2026)."
    ]
    assert command(slack, fake, "/deadline", "done 1", CAROL) == (
        "Deadline *Write the launch post* is done. :white_check_mark:"
    )
    tick(ticker, clock, utc(12, 3, 14))
    assert len(dm_texts(fake, CAROL)) == 4


def test_deadline_list_and_who_may_close_it(slack: SignedClient, fake: FakeSlack) -> None:
    set_up_team(slack, fake)
    command(slack, fake, "/deadline", "Spec review 2026-12-03", CAROL)
    assert command(slack, fake, "/deadline", "list", ERIN) == (
        "Open deadlines in #launch:\n• `1` *Spec review* — Thu 3 Dec 2026 · @carol"
    )
    assert command(slack, fake, "/deadline", "done 1", ERIN).startswith("Sorry, only the project")
    assert command(slack, fake, "/deadline", "done 7", CAROL).startswith(
        "#launch has no open deadline `7`"
    )
    assert command(slack, fake, "/deadline", "done spec REVIEW", BOB).startswith("Deadline *Spec")


def test_an_unacknowledged_blocker_escalates_once_after_24_working_hours(
    slack: SignedClient, fake: FakeSlack, ticker: Ticker, clock: FixedClock
) -> None:
    set_up_team(slack, fake)
    clock.now = utc(11, 27, 15)  # Friday afternoon
    command(slack, fake, "/blocker", "Staging is down", CAROL)
    command(slack, fake, "/blocker", "No design for the empty state", ERIN)
    fake.wait_for(lambda: len(cards(fake, BOB)) == 2)
    card = cards(fake, BOB)[1]
    slack.click(BOB, fake.dm_channel(BOB), card["ts"], "item_acknowledge", item_id(card))
    fake.wait_for(lambda: len(fake.calls_to("chat.update")) == 1)

    tick(ticker, clock, utc(11, 30, 14, 59))  # weekend hours do not count
    assert nudges(fake) == []
    tick(ticker, clock, utc(11, 30, 15))
    tick(ticker, clock, utc(12, 1, 15))

    expected = (
        ":rotating_light: @bob: blocker *#1* from @carol has waited 24 working hours without "
        "being acknowledged\n>Staging is down"
    )
    assert nudges(fake) == [expected]
    assert [t for t in dm_texts(fake, BOB) if t.startswith(":rotating_light:")] == [expected]


def test_the_escalation_threshold_is_a_team_setting(
    slack: SignedClient, fake: FakeSlack, ticker: Ticker, clock: FixedClock
) -> None:
    set_up_team(slack, fake)
    assert "escalate after 4 working hours" in command(
        slack, fake, "/rolecall", "escalation 4", BOB
    )
    command(slack, fake, "/blocker", "Staging is down", CAROL)

    tick(ticker, clock, utc(11, 30, 11, 59))
    assert nudges(fake) == []
    tick(ticker, clock, utc(11, 30, 12))
    assert "has waited 4 working hours" in nudges(fake)[0]


# Digest ---------------------------------------------------------------------------------------


def file_some(slack: SignedClient, fake: FakeSlack) -> None:
    command(slack, fake, "/feedback", "SSO for Acme", CAROL)
    command(slack, fake, "/feedback", "Dark mode <!channel>", ERIN)
    command(slack, fake, "/blocker", "Staging is down", CAROL)
    fake.wait_for(lambda: len(cards(fake, ALICE)) == 2 and len(cards(fake, BOB)) == 1)


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
    slack: SignedClient, fake: FakeSlack, ticker: Ticker, clock: FixedClock
) -> None:
    set_up_team(slack, fake)
    file_some(slack, fake)
    tick(ticker, clock, utc(12, 7, 9))
    parent = posts(fake)[-1]
    product = thread(fake, parent)[0]
    actions = next(b for b in product["blocks"] if b.get("block_id") == "waiting_actions_1")

    slack.click(ALICE, TEAM, product["ts"], "item_plan", actions["elements"][0]["value"])

    fake.wait_for(lambda: len(fake.calls_to("chat.update")) == 2)
    updated = rendered(fake, thread(fake, parent)[0])
    assert "*Planned* by @alice" in updated
    assert updated.count("[Plan] [Decline] [Duplicate]") == 1  # item 2 keeps its buttons
    assert "*Planned* by @alice" in rendered(fake, cards(fake, ALICE)[0])
    fake.wait_for(lambda: any("was planned by @alice" in t for t in dm_texts(fake, CAROL)))


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


def test_a_nudge_answered_5xx_is_looked_for_then_posted_once_in_the_same_run(
    slack: SignedClient, fake: FakeSlack, ticker: Ticker, clock: FixedClock
) -> None:
    set_up_team(slack, fake)
    command(slack, fake, "/milestone", "add Beta 2026-12-01", BOB)
    fake.fail_next("chat.postMessage", "internal_error", status=500)  # Slack did not post it

    tick(ticker, clock, utc(11, 30, 9))

    assert nudges(fake) == [":calendar: Milestone *Beta* is due tomorrow (Tue 1 Dec 2026)"]
    failed = next(n for n, c in enumerate(fake.calls) if c.status == 500)
    assert [c.method for c in fake.calls[failed : failed + 3]] == [
        "chat.postMessage",  # answered 500
        "conversations.history",  # not there: Slack did not take it
        "chat.postMessage",  # so it is posted
    ]


def test_a_nudge_slack_took_but_whose_response_was_lost_is_found_not_posted_again(
    slack: SignedClient, fake: FakeSlack, ticker: Ticker, clock: FixedClock
) -> None:
    set_up_team(slack, fake)
    command(slack, fake, "/milestone", "add Beta 2026-12-01", BOB)
    command(slack, fake, "/milestone", "add Launch 2026-12-01", BOB)
    fake.lose_response("chat.postMessage", lambda p: "Beta" in str(p["blocks"]))

    tick(ticker, clock, utc(11, 30, 9))
    tick(ticker, clock, utc(11, 30, 9, 1))

    [posted] = nudges(fake)  # one message for both milestones, posted once
    assert "*Beta*" in posted and "*Launch*" in posted
    [lookup] = fake.calls_to("conversations.history")
    assert lookup["channel"] == TEAM and lookup["include_all_metadata"] in (1, "1")


def test_a_failed_nudge_is_retried_next_run_and_found_if_slack_had_it(
    slack: SignedClient, fake: FakeSlack, ticker: Ticker, clock: FixedClock
) -> None:
    set_up_team(slack, fake)
    command(slack, fake, "/milestone", "add Beta 2026-12-01", BOB)
    fake.lose_response("chat.postMessage", lambda p: "Beta" in str(p["blocks"]))
    # ...and Slack cannot be asked: history fails past slack-sdk's two retries
    fake.fail_next("conversations.history", "internal_error", status=500, times=3)

    tick(ticker, clock, utc(11, 30, 9))
    [posted] = nudges(fake)
    tick(ticker, clock, utc(11, 30, 9) + timedelta(seconds=59))  # backing off for a minute
    assert fake.calls_to("conversations.history") == []
    tick(ticker, clock, utc(11, 30, 9, 1))
    tick(ticker, clock, utc(11, 30, 9, 5))

    assert nudges(fake) == [posted]
    assert len(fake.calls_to("conversations.history")) == 1  # found by the next run, recorded


def test_a_nudge_that_keeps_failing_is_retried_by_later_runs_not_lost(
    slack: SignedClient, fake: FakeSlack, ticker: Ticker, clock: FixedClock
) -> None:
    set_up_team(slack, fake)
    command(slack, fake, "/milestone", "add Beta 2026-12-01", BOB)
    # three for the nudge's attempts in this run, one for the digest parent's first
    fake.fail_next("chat.postMessage", "internal_error", status=500, times=4)

    tick(ticker, clock, utc(11, 30, 9))
    assert nudges(fake) == []
    tick(ticker, clock, utc(11, 30, 9, 1))

    assert nudges(fake) == [":calendar: Milestone *Beta* is due tomorrow (Tue 1 Dec 2026)"]


def test_a_deadline_dm_and_a_digest_reply_whose_responses_were_lost_are_found(
    slack: SignedClient, fake: FakeSlack, ticker: Ticker, clock: FixedClock
) -> None:
    set_up_team(slack, fake)
    file_some(slack, fake)
    command(slack, fake, "/deadline", f"Write the launch post 2026-12-08 <@{CAROL}>", ALICE)
    fake.wait_for(lambda: len(dm_texts(fake, CAROL)) == 1)
    fake.lose_response("chat.postMessage", lambda p: p["text"].startswith("Product digest"))
    fake.lose_response("chat.postMessage", lambda p: p["channel"] == CAROL)

    tick(ticker, clock, utc(12, 7, 9))
    tick(ticker, clock, utc(12, 7, 9, 1))

    [parent] = digests(fake)
    replies = thread(fake, parent)
    assert [r["text"].split(" digest")[0] for r in replies] == ["Product", "Project"]
    assert len(dm_texts(fake, CAROL)) == 2
    [opened] = fake.calls_to("conversations.open")
    assert opened["users"] == CAROL
    [in_thread] = fake.calls_to("conversations.replies")
    assert in_thread["ts"] == parent["ts"]


def test_rate_limited_posts_wait_and_go_through_once(
    slack: SignedClient, fake: FakeSlack, ticker: Ticker, clock: FixedClock
) -> None:
    set_up_team(slack, fake)
    command(slack, fake, "/milestone", "add Beta 2026-12-01", BOB)
    fake.rate_limit_next("chat.postMessage", retry_after=0)

    tick(ticker, clock, utc(11, 30, 9))

    assert len(nudges(fake)) == 1


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


# Cards that did not go out the first time --------------------------------------------------------


def test_a_card_whose_post_failed_is_posted_once_by_a_later_run(
    slack: SignedClient, fake: FakeSlack, ticker: Ticker, clock: FixedClock
) -> None:
    set_up_team(slack, fake)
    fake.fail_next("chat.postMessage", "internal_error", status=500, times=3)  # all attempts
    command(slack, fake, "/feedback", "SSO for Acme", CAROL)
    fake.wait_for(lambda: len([c for c in fake.calls if c.status == 500]) == 3)
    assert cards(fake, ALICE) == []

    tick(ticker, clock, clock.now + timedelta(seconds=59))  # backing off for a minute
    assert cards(fake, ALICE) == []
    tick(ticker, clock, clock.now + timedelta(seconds=1))
    tick(ticker, clock, clock.now + timedelta(minutes=5))

    assert [rendered(fake, c).splitlines()[1] for c in cards(fake, ALICE)] == ["SSO for Acme"]


def test_a_card_slack_took_but_whose_response_was_lost_is_found_and_still_acts(
    slack: SignedClient, fake: FakeSlack, ticker: Ticker, clock: FixedClock
) -> None:
    set_up_team(slack, fake)
    fake.lose_response("chat.postMessage", lambda p: p["channel"] == ALICE)
    command(slack, fake, "/feedback", "SSO for Acme", CAROL)
    fake.wait_for(lambda: len(fake.calls_to("conversations.history")) == 1)
    [card] = cards(fake, ALICE)

    tick(ticker, clock, clock.now + timedelta(minutes=1))
    tick(ticker, clock, clock.now + timedelta(minutes=5))
    assert cards(fake, ALICE) == [card]

    slack.click(ALICE, fake.dm_channel(ALICE), card["ts"], "item_plan", "1")
    fake.wait_for(lambda: "*Planned* by @alice" in rendered(fake, cards(fake, ALICE)[0]))
    assert [u["ts"] for u in fake.calls_to("chat.update")] == [card["ts"]]


def test_an_item_acked_by_a_process_that_stopped_before_posting_still_gets_its_card(
    slack: SignedClient, fake: FakeSlack, services: Services, clock: FixedClock
) -> None:
    set_up_team(slack, fake)
    services.capture.file(Capture(ItemKind.BLOCKER, "Staging is down", TEAM, CAROL))  # no announce
    ticker = services.ticker

    tick(ticker, clock, clock.now + timedelta(seconds=30))  # its own process may still post it
    assert cards(fake, BOB) == []
    tick(ticker, clock, clock.now + timedelta(minutes=1))
    tick(ticker, clock, clock.now + timedelta(minutes=1))

    assert len(cards(fake, BOB)) == 1


def test_a_backlog_of_failed_cards_drains_paced_over_several_runs(
    slack: SignedClient, fake: FakeSlack, services: Services, clock: FixedClock
) -> None:
    ticker = services.ticker
    set_up_team(slack, fake)
    fake.fail_next("chat.postMessage", "internal_error", times=25)  # Slack answers, not posted
    for n in range(25):
        command(slack, fake, "/feedback", f"idea {n}", CAROL)
    fake.wait_for(lambda: len([c for c in fake.calls if c.error == "internal_error"]) == 25)
    waits: list[float] = []
    services.outbox.pacer = Pacer(sleep=waits.append)

    tick(ticker, clock, clock.now + timedelta(minutes=1))
    assert len(cards(fake, ALICE)) == CARD_RETRIES_PER_RUN == 20
    assert len(waits) >= 19  # one card a second to the same person
    tick(ticker, clock, clock.now + timedelta(minutes=1))
    tick(ticker, clock, clock.now + timedelta(minutes=1))

    texts = sorted(rendered(fake, c).splitlines()[1] for c in cards(fake, ALICE))
    assert texts == sorted(f"idea {n}" for n in range(25))

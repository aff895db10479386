"""Snooze 1 day, Snooze until Monday and Mute on overdue reminders, clicked through signed
requests: who may, what is stored, what the message shows, and what the next ticks send."""

import logging
from copy import deepcopy
from datetime import date
from typing import Any

import pytest

from bot.tick import Ticker
from handlers.services import Services
from sandbox.fake_slack import FakeSlack
from sandbox.signed_client import SignedClient
from storage.models import Deadline, Milestone
from tests.conftest import BOB, CAROL, DAVE, ERIN, FixedClock
from tests.handlers.scenario import command, ephemerals, set_up_team, tick, utc


def overdue(fake: FakeSlack, user: str, block_id: str) -> list[dict[str, Any]]:
    """The reminders in a person's DM that carry (or carried) one subject's buttons."""
    return [m for m in fake.dms_to(user) if any(b.get("block_id") == block_id for b in m["blocks"])]


def last_reminder(fake: FakeSlack, user: str, kind: str = "deadline") -> dict[str, Any]:
    return overdue(fake, user, f"snooze_{kind}_1")[-1]


def click(
    slack: SignedClient,
    fake: FakeSlack,
    user: str,
    message: dict[str, Any],
    action: str,
    value: str = "deadline:1",
    *,
    dm_of: str | None = None,
) -> None:
    """`user` presses a button on a reminder in their DM (or in `dm_of`'s, forged)."""
    response = slack.click(user, fake.dm_channel(dm_of or user), message["ts"], action, value)
    assert response.status_code == 200


def subject_block(message: dict[str, Any], block_id: str = "snooze_deadline_1") -> dict[str, Any]:
    return next(b for b in message["blocks"] if b.get("block_id") == block_id)


def context_text(block: dict[str, Any]) -> str:
    assert block["type"] == "context"
    return str(block["elements"][0]["text"])


def deadline_row(services: Services) -> Deadline:
    row = services.planning.store.dated(Deadline, 1)
    assert row is not None
    return row


@pytest.fixture
def slipped(slack: SignedClient, fake: FakeSlack, ticker: Ticker, clock: FixedClock) -> None:
    """Carol's deadline was due Tuesday 1 Dec; Wednesday at 09:00 she and Bob (the project
    manager) each get an overdue reminder with the three buttons."""
    set_up_team(slack, fake)
    command(slack, fake, "/deadline", f"Write the launch post 2026-12-01 <@{CAROL}>", BOB)
    tick(ticker, clock, utc(12, 2, 9))
    assert len(overdue(fake, CAROL, "snooze_deadline_1")) == 1
    assert len(overdue(fake, BOB, "snooze_deadline_1")) == 1


def test_snooze_one_day_rewrites_the_buttons_and_holds_reminders_to_the_next_working_day(
    slack: SignedClient,
    fake: FakeSlack,
    ticker: Ticker,
    clock: FixedClock,
    services: Services,
    slipped: None,
) -> None:
    clock.now = utc(12, 4, 10)  # Friday: the next working day is Monday
    reminder = deepcopy(last_reminder(fake, CAROL))  # the fake updates messages in place
    click(slack, fake, CAROL, reminder, "reminder_snooze_day")

    [update] = fake.calls_to("chat.update")
    assert update["channel"] == fake.dm_channel(CAROL)
    assert update["ts"] == reminder["ts"]
    after = last_reminder(fake, CAROL)
    assert context_text(subject_block(after)) == f":zzz: Snoozed until Mon 7 Dec 2026 by <@{CAROL}>"
    assert update["blocks"] == after["blocks"]
    # The rest of the message is as it was: the line above the buttons and anything else.
    assert [b for b in after["blocks"] if b is not subject_block(after)] == [
        b for b in reminder["blocks"] if b is not subject_block(reminder)
    ]
    assert deadline_row(services).snoozed_until == date(2026, 12, 7)
    assert not any("Snoozed" in e for e in ephemerals(fake, CAROL))

    sent = len(fake.dms_to(CAROL))
    tick(ticker, clock, utc(12, 4, 11))
    assert len(fake.dms_to(CAROL)) == sent
    tick(ticker, clock, utc(12, 7, 9))
    tick(ticker, clock, utc(12, 7, 15))
    assert len(fake.dms_to(CAROL)) == sent + 1
    assert "6 days overdue" in fake.dms_to(CAROL)[-1]["text"]


def test_snooze_until_monday_sends_nothing_before_monday_then_one_reminder(
    slack: SignedClient,
    fake: FakeSlack,
    ticker: Ticker,
    clock: FixedClock,
    services: Services,
    slipped: None,
) -> None:
    clock.now = utc(12, 2, 10)
    click(slack, fake, CAROL, last_reminder(fake, CAROL), "reminder_snooze_week")

    assert context_text(subject_block(last_reminder(fake, CAROL))) == (
        f":zzz: Snoozed until Mon 7 Dec 2026 by <@{CAROL}>"
    )
    assert deadline_row(services).snoozed_until == date(2026, 12, 7)
    carol, bob = len(fake.dms_to(CAROL)), len(fake.dms_to(BOB))
    for day in (3, 4, 5, 6):
        tick(ticker, clock, utc(12, day, 9))
        tick(ticker, clock, utc(12, day, 16))
    assert (len(fake.dms_to(CAROL)), len(fake.dms_to(BOB))) == (carol, bob)

    tick(ticker, clock, utc(12, 7, 9))
    tick(ticker, clock, utc(12, 7, 16))
    assert (len(fake.dms_to(CAROL)), len(fake.dms_to(BOB))) == (carol + 1, bob + 1)
    # The resumed reminder has its own buttons again.
    assert subject_block(fake.dms_to(CAROL)[-1])["type"] == "actions"


def test_snooze_until_monday_skips_a_holiday_monday(
    slack: SignedClient,
    fake: FakeSlack,
    ticker: Ticker,
    clock: FixedClock,
    services: Services,
    slipped: None,
) -> None:
    command(slack, fake, "/rolecall", "holiday add 2026-12-07 Team day", BOB)
    click(slack, fake, BOB, last_reminder(fake, BOB), "reminder_snooze_week")

    assert deadline_row(services).snoozed_until == date(2026, 12, 8)
    assert context_text(subject_block(last_reminder(fake, BOB))) == (
        f":zzz: Snoozed until Tue 8 Dec 2026 by <@{BOB}>"
    )


def test_mute_stops_every_overdue_reminder_and_a_click_on_another_copy_says_so(
    slack: SignedClient,
    fake: FakeSlack,
    ticker: Ticker,
    clock: FixedClock,
    services: Services,
    slipped: None,
) -> None:
    bobs = last_reminder(fake, BOB)
    click(slack, fake, BOB, bobs, "reminder_mute")

    assert deadline_row(services).muted_by == BOB
    assert context_text(subject_block(last_reminder(fake, BOB))) == (
        f":no_bell: Muted by <@{BOB}>: no more reminders about it"
    )
    carols = last_reminder(fake, CAROL)
    assert subject_block(carols)["type"] == "actions"  # only the clicked message changes
    carol, bob = len(fake.dms_to(CAROL)), len(fake.dms_to(BOB))
    for day in (3, 4, 7, 8, 9, 16, 23):
        tick(ticker, clock, utc(12, day, 9))
    assert (len(fake.dms_to(CAROL)), len(fake.dms_to(BOB))) == (carol, bob)

    click(slack, fake, CAROL, carols, "reminder_snooze_day")
    assert ephemerals(fake, CAROL)[-1] == "It is already muted by @bob: no more reminders about it."
    assert context_text(subject_block(last_reminder(fake, CAROL))) == (
        f":no_bell: Muted by <@{BOB}>: no more reminders about it"
    )
    row = deadline_row(services)
    assert (row.muted_by, row.snoozed_until) == (BOB, None)


def test_a_second_snooze_says_what_already_happened_and_never_shortens_it(
    slack: SignedClient,
    fake: FakeSlack,
    services: Services,
    slipped: None,
) -> None:
    click(slack, fake, BOB, last_reminder(fake, BOB), "reminder_snooze_week")
    click(slack, fake, CAROL, last_reminder(fake, CAROL), "reminder_snooze_day")

    assert deadline_row(services).snoozed_until == date(2026, 12, 7)
    assert ephemerals(fake, CAROL)[-1] == "It is already snoozed until Mon 7 Dec 2026."
    assert context_text(subject_block(last_reminder(fake, CAROL))) == (
        ":zzz: Snoozed until Mon 7 Dec 2026"
    )


def test_someone_the_reminder_is_not_for_is_refused_and_nothing_changes(
    slack: SignedClient,
    fake: FakeSlack,
    services: Services,
    slipped: None,
) -> None:
    command(slack, fake, "/role", f"<@{ERIN}|erin> project", BOB)
    command(slack, fake, "/role", f"remove <@{BOB}|bob> project", ERIN)
    bobs = last_reminder(fake, BOB)
    click(slack, fake, BOB, bobs, "reminder_mute")

    assert ephemerals(fake, BOB)[-1] == (
        "Sorry, only @carol, the project managers of #launch (or a workspace admin) can "
        "snooze or mute reminders about this deadline."
    )
    row = deadline_row(services)
    assert (row.muted_by, row.snoozed_until) == (None, None)
    assert fake.calls_to("chat.update") == []
    assert last_reminder(fake, BOB) == bobs


def test_a_workspace_admin_who_no_longer_holds_the_role_may_still_snooze(
    slack: SignedClient,
    fake: FakeSlack,
    ticker: Ticker,
    clock: FixedClock,
    services: Services,
) -> None:
    set_up_team(slack, fake)
    command(slack, fake, "/role", f"<@{DAVE}|dave> project", BOB)
    command(slack, fake, "/deadline", f"Write the launch post 2026-12-01 <@{CAROL}>", BOB)
    tick(ticker, clock, utc(12, 2, 9))
    command(slack, fake, "/role", f"remove <@{DAVE}|dave> project", BOB)

    click(slack, fake, DAVE, last_reminder(fake, DAVE), "reminder_snooze_day")

    assert deadline_row(services).snoozed_until == date(2026, 12, 3)
    assert context_text(subject_block(last_reminder(fake, DAVE))) == (
        f":zzz: Snoozed until Thu 3 Dec 2026 by <@{DAVE}>"
    )


@pytest.mark.parametrize(
    "value", ["deadline:abc", "deadline:1 ", "risk:1", "deadline:", "deadline:-1", "deadline:99"]
)
def test_a_forged_value_is_ignored(
    slack: SignedClient,
    fake: FakeSlack,
    services: Services,
    slipped: None,
    value: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    told = len(ephemerals(fake, CAROL))
    with caplog.at_level(logging.WARNING):
        click(slack, fake, CAROL, last_reminder(fake, CAROL), "reminder_mute", value)

    assert deadline_row(services).muted_by is None
    assert fake.calls_to("chat.update") == []
    assert len(ephemerals(fake, CAROL)) == told
    assert any("reminder button" in r.getMessage() for r in caplog.records)


def test_a_click_on_a_message_we_did_not_send_that_person_is_ignored(
    slack: SignedClient, fake: FakeSlack, services: Services, slipped: None
) -> None:
    # Bob's reminder, clicked as if it were in Carol's DM; and a ts we never posted.
    click(slack, fake, CAROL, last_reminder(fake, BOB), "reminder_mute", dm_of=BOB)
    response = slack.click(CAROL, fake.dm_channel(CAROL), "1.000001", "reminder_mute", "deadline:1")
    assert response.status_code == 200

    assert deadline_row(services).muted_by is None
    assert fake.calls_to("chat.update") == []


def test_a_replayed_click_acts_once(
    slack: SignedClient, fake: FakeSlack, services: Services, slipped: None
) -> None:
    click(slack, fake, CAROL, last_reminder(fake, CAROL), "reminder_snooze_day")
    told = len(ephemerals(fake, CAROL))
    assert slack.replay().status_code == 200

    assert len(fake.calls_to("chat.update")) == 1
    assert len(ephemerals(fake, CAROL)) == told
    assert deadline_row(services).snoozed_until == date(2026, 12, 3)


def test_a_click_after_the_deadline_is_done_says_so(
    slack: SignedClient, fake: FakeSlack, services: Services, slipped: None
) -> None:
    command(slack, fake, "/deadline", "done 1", CAROL)
    click(slack, fake, CAROL, last_reminder(fake, CAROL), "reminder_snooze_day")

    assert ephemerals(fake, CAROL)[-1] == "That deadline is done: no more reminders about it."
    assert deadline_row(services).snoozed_until is None


def test_moving_a_muted_milestone_brings_its_reminders_back(
    slack: SignedClient,
    fake: FakeSlack,
    ticker: Ticker,
    clock: FixedClock,
    services: Services,
) -> None:
    set_up_team(slack, fake)
    command(slack, fake, "/milestone", f"add Beta 2026-12-01 <@{CAROL}>", BOB)
    tick(ticker, clock, utc(12, 2, 9))
    click(
        slack, fake, CAROL, last_reminder(fake, CAROL, "milestone"), "reminder_mute", "milestone:1"
    )
    milestone = services.planning.store.dated(Milestone, 1)
    assert milestone is not None and milestone.muted_by == CAROL
    tick(ticker, clock, utc(12, 3, 9))
    assert len(overdue(fake, CAROL, "snooze_milestone_1")) == 1

    clock.now = utc(12, 3, 10)
    command(slack, fake, "/milestone", "move Beta 2026-12-04", BOB)
    milestone = services.planning.store.dated(Milestone, 1)
    assert milestone is not None and (milestone.muted_by, milestone.snoozed_until) == (None, None)
    tick(ticker, clock, utc(12, 7, 9))
    assert len(overdue(fake, CAROL, "snooze_milestone_1")) == 2

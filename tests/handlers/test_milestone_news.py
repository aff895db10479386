"""A milestone's why, through its commands: `/milestone show`, the news that it shipped (each
person once, where they raised it) and the news that it moved (to the product managers)."""

import re
from datetime import date
from typing import Any

from bot.milestone_news import POSTED_AT_ONCE
from bot.tick import Ticker
from handlers.services import Services
from sandbox.fake_slack import FakeSlack
from sandbox.signed_client import SignedClient
from storage.handoffs import HandoffStore
from storage.items import ItemStore
from storage.models import (
    Handoff,
    HandoffKind,
    HandoffStatus,
    Item,
    ItemKind,
    ItemStatus,
    Level,
    Milestone,
)
from storage.planning import PlanningStore
from tests.conftest import ALICE, BOB, CAROL, DAVE, ERIN, TEAM, FixedClock
from tests.handlers.scenario import command, dm_texts, nudges, rendered, set_up_team, tick, utc

OTHER = "COTHER"


def milestone(services: Services, name: str, team: str = TEAM) -> Milestone:
    found = PlanningStore(services.db, services.workspace_id).milestone(team, name.lower())
    assert found is not None and found.id is not None
    return found


def said(slack: SignedClient, fake: FakeSlack, text: str, user: str) -> str:
    """A `feedback:` message in #launch; returns its ts (the item's source and thread)."""
    message, response = slack.say(TEAM, user, f"feedback: {text}")
    assert response.status_code == 200
    return str(message["ts"])


def plan(services: Services, ts: str, into: str) -> None:
    """Plan the feedback filed from the message at `ts` into a milestone of #launch."""
    item = ItemStore(services.db, services.workspace_id).by_source(ItemKind.FEEDBACK, TEAM, ts)
    assert item is not None and item.id is not None
    plan_item(services, item.id, into)


def plan_item(services: Services, item_id: int | None, into: str, team: str = TEAM) -> None:
    """Plan open feedback into a milestone (the planning flow itself is another command's)."""
    assert item_id is not None
    items = ItemStore(services.db, services.workspace_id)
    target = milestone(services, into, team)
    now = services.clock()
    assert items.transition(
        item_id, [ItemStatus.OPEN], ItemStatus.PLANNED, ALICE, now, milestone_id=target.id
    )


def file(services: Services, text: str, **fields: object) -> Item:
    """An item as another entry point files it (a risk, another team's feedback)."""
    now = services.clock()
    values: dict[str, object] = {
        "kind": ItemKind.FEEDBACK,
        "team_channel_id": TEAM,
        "text": text,
        "reporter_id": CAROL,
        "created_at": now,
        "updated_at": now,
        **fields,
    }
    item, _ = ItemStore(services.db, services.workspace_id).file(Item.model_validate(values))
    return item


def thread_replies(fake: FakeSlack, ts: str) -> list[str]:
    return [
        rendered(fake, m)
        for m in fake.messages[TEAM]
        if m.get("thread_ts") == ts and m["user"] == fake.bot_user_id
    ]


def shipped(fake: FakeSlack, user: str) -> list[str]:
    return [text for text in dm_texts(fake, user) if "Shipped" in text]


def test_show_tells_a_milestone_and_why_it_exists_to_anyone(
    slack: SignedClient, fake: FakeSlack, services: Services
) -> None:
    set_up_team(slack, fake)
    command(slack, fake, "/milestone", f"add Public beta 2026-12-09 <@{CAROL}>", BOB)
    command(slack, fake, "/roadmap", 'add "Self-serve onboarding" 2026-Q4', ALICE)
    command(slack, fake, "/roadmap", 'link "Self-serve onboarding" Public beta', ALICE)
    sso = said(slack, fake, "SSO for Acme", CAROL)
    slack.react(TEAM, ERIN, sso, "bulb")
    slack.react(TEAM, DAVE, sso, "bulb")
    plan(services, sso, "Public beta")
    plan(services, said(slack, fake, "Audit log <!channel>", ERIN), "Public beta")
    said(slack, fake, "Dark mode", ERIN)  # open, not planned: not a reason
    command(slack, fake, "/blocker", "Signing keys missing #Public beta", CAROL)
    beta = milestone(services, "Public beta")
    file(
        services,
        "Acme may churn",
        kind=ItemKind.MARKET_RISK,
        milestone_id=beta.id,
        impact=Level.HIGH,
        likelihood=Level.MEDIUM,
    )
    file(
        services,
        "A vendor may be late",
        kind=ItemKind.OPERATIONAL_RISK,
        milestone_id=beta.id,
        impact=Level.HIGH,
        likelihood=Level.LOW,
    )  # unlikely: not a high risk

    shown = command(slack, fake, "/milestone", "show public BETA", ERIN)

    # Item numbers as SQLite gives them (PostgreSQL's sequence skips those a +1 tried).
    assert re.sub(r"\*#[0-9]+\*", "*#N*", shown).splitlines() == [
        ":triangular_flag_on_post: *Public beta* in #launch",
        "*Due:* Wed 9 Dec 2026 · *Owner:* @carol",
        "*State:* :warning: at risk: 1 open blocker, 1 high risk",
        "*Theme:* Self-serve onboarding (2026-Q4)",
        "*Why*: 2 feedback items planned into it",
        "*#N* SSO for Acme",
        "@carol · +2 · source",
        "*#N* Audit log <!channel>",  # escaped: it pings nobody
        "@erin · source",
        "*Open blockers* (1)",
        "• *#N* Signing keys missing #Public beta · @carol",
        "*Open high risks* (1)",
        "• *#N* Acme may churn · @carol",
    ]
    assert command(slack, fake, "/milestone", "list", ERIN).endswith(
        "· :warning: *at risk*: 1 open blocker, 1 high risk"
    )


def test_show_counts_scope_creep_and_the_freeze_and_a_done_milestone_shows_done(
    slack: SignedClient, fake: FakeSlack, services: Services
) -> None:
    set_up_team(slack, fake)
    command(slack, fake, "/milestone", "add GA 2026-12-20", BOB)
    ga = milestone(services, "GA")
    assert ga.id is not None
    item = file(services, "Bulk import")
    with services.db.writing() as session:
        ga.freeze_date = date(2026, 12, 10)
        session.add(ga)
        session.add(
            Handoff(
                workspace_id=services.workspace_id,
                team_channel_id=TEAM,
                item_id=item.id or 0,
                kind=HandoffKind.SCOPE_CREEP,
                status=HandoffStatus.ACCEPTED,
                milestone_id=ga.id,
                requested_by=ALICE,
                requested_at=services.clock(),
            )
        )
        session.commit()
    assert HandoffStore(services.db, services.workspace_id).accepted_creep(TEAM) == {ga.id: 1}

    shown = command(slack, fake, "/milestone", "show GA", CAROL)
    assert "*Scope freeze:* Thu 10 Dec 2026" in shown
    assert "*Scope creep accepted:* 1 item" in shown
    assert "*State:* :large_green_circle: on track" in shown
    assert "*Why*: no feedback is planned into it yet." in shown

    command(slack, fake, "/milestone", "done GA", BOB)
    assert "*State:* :white_check_mark: done" in command(
        slack, fake, "/milestone", "show ga", CAROL
    )


def test_show_of_an_unknown_or_another_teams_milestone_names_the_open_ones(
    slack: SignedClient, fake: FakeSlack
) -> None:
    set_up_team(slack, fake)
    fake.add_channel(OTHER, "other", [ALICE, BOB, CAROL])
    slack.command("/milestone", "add Secret launch 2026-12-09", BOB, OTHER)
    command(slack, fake, "/milestone", "add Beta 2026-12-05", BOB)

    for name in ("Secret launch", "Gamma"):
        assert command(slack, fake, "/milestone", f"show {name}", CAROL) == (
            f"#launch has no milestone called *{name}*. Open ones: *Beta*."
        )
    assert command(slack, fake, "/milestone", "show", CAROL).startswith("Usage: `/milestone")


def test_done_tells_everyone_behind_its_planned_feedback_once_where_they_raised_it(
    slack: SignedClient, fake: FakeSlack, services: Services, ticker: Ticker, clock: FixedClock
) -> None:
    set_up_team(slack, fake)
    command(slack, fake, "/milestone", "add Public beta 2026-12-09", BOB)
    command(slack, fake, "/milestone", "add GA 2026-12-20", BOB)
    sso = said(slack, fake, "SSO for Acme", CAROL)
    dark = said(slack, fake, "Dark mode <!channel>", ERIN)
    audit = said(slack, fake, "Audit log", ALICE)
    later = said(slack, fake, "Offline mode", DAVE)
    for voter, ts in [(ERIN, sso), (BOB, sso), (CAROL, dark), (DAVE, sso)]:
        slack.react(TEAM, voter, ts, "bulb")
    for ts in (sso, dark, audit):
        plan(services, ts, "Public beta")
    plan(services, later, "GA")  # another milestone's: Dave hears only of SSO
    command(slack, fake, "/feedback", "Export to CSV", DAVE)  # open: nobody hears of it
    before = {user: len(dm_texts(fake, user)) for user in (ALICE, BOB, CAROL, DAVE, ERIN)}

    reply = command(slack, fake, "/milestone", "done Public beta", BOB)
    response = slack.replay()  # the same command again: acts once

    assert response.status_code == 200
    assert reply == (
        "Milestone *Public beta* is done. :tada: No more reminders for it. I'm telling the 4 "
        "people who asked for what it delivers."
    )
    # Alice raised one item, from a message: she hears in its thread, named.
    assert thread_replies(fake, audit)[-1] == (
        "@alice :rocket: Shipped in *Public beta*: Audit log"
    )
    # Carol and Erin are behind two items each (one raised, one +1'd): one DM listing both.
    assert shipped(fake, CAROL) == [
        ":rocket: Shipped in *Public beta*: 2 things you asked for in #launch\n"
        "• SSO for Acme\n"
        "• Dark mode <!channel>"
    ]
    assert shipped(fake, ERIN) == shipped(fake, CAROL)
    assert shipped(fake, DAVE) == [":rocket: Shipped in *Public beta*: SSO for Acme (source)"]
    assert len(dm_texts(fake, BOB)) == before[BOB]  # who closed it knows
    assert len(dm_texts(fake, ALICE)) == before[ALICE]  # heard in the thread instead
    assert [t for t in thread_replies(fake, sso) if "Shipped" in t] == []  # Carol: by DM

    tick(ticker, clock, utc(11, 30, 8, 5))
    assert command(slack, fake, "/milestone", "done Public beta", BOB).startswith(
        "#launch has no open milestone called *Public beta*"
    )
    assert [len(shipped(fake, u)) for u in (CAROL, DAVE, ERIN)] == [1, 1, 1]
    assert len([t for t in thread_replies(fake, audit) if "Shipped" in t]) == 1


def test_a_shipped_notice_slack_refused_is_posted_once_by_the_time_loop(
    slack: SignedClient, fake: FakeSlack, services: Services, ticker: Ticker, clock: FixedClock
) -> None:
    set_up_team(slack, fake)
    command(slack, fake, "/milestone", "add Public beta 2026-12-09", BOB)
    command(slack, fake, "/feedback", "SSO for Acme", CAROL)  # by command: Carol hears by DM
    plan_item(services, 1, "Public beta")
    fake.fail_next("chat.postMessage", "internal_error")

    command(slack, fake, "/milestone", "done Public beta", BOB)
    assert shipped(fake, CAROL) == []

    tick(ticker, clock, utc(11, 30, 8, 5))
    tick(ticker, clock, utc(11, 30, 8, 6))
    assert shipped(fake, CAROL) == [":rocket: Shipped in *Public beta*: SSO for Acme"]


def test_one_person_behind_many_items_gets_one_short_message(
    slack: SignedClient, fake: FakeSlack, services: Services
) -> None:
    set_up_team(slack, fake)
    command(slack, fake, "/milestone", "add Public beta 2026-12-09", BOB)
    beta = milestone(services, "Public beta")
    for n in range(30):
        fake.add_user(f"UREPORTER{n}", f"reporter{n}")
        item = file(services, f"Idea {n} " + "x" * 400, reporter_id=f"UREPORTER{n}")
        assert item.id is not None  # for add_vote
        ItemStore(services.db, services.workspace_id).add_vote(item.id, ERIN, services.clock())
        plan_item(services, item.id, "Public beta")
    assert len(services.planning.news.letters(beta, BOB)) == 31

    command(slack, fake, "/milestone", "done Public beta", BOB)

    [erins] = shipped(fake, ERIN)
    assert erins.startswith(":rocket: Shipped in *Public beta*: 30 things you asked for in #l")
    assert erins.count("\n• ") == 5 and erins.endswith("\n…and 25 more.")
    assert len(erins) < 1500


def test_500_reporters_each_get_one_small_letter_and_the_closer_hears_back_at_once(
    services: Services, slack: SignedClient, fake: FakeSlack, ticker: Ticker, clock: FixedClock
) -> None:
    set_up_team(slack, fake)
    command(slack, fake, "/milestone", "add Public beta 2026-12-09", BOB)
    for n in range(500):
        fake.add_user(f"UREPORTER{n}", f"reporter{n}")
        item = file(services, "y" * 3000, reporter_id=f"UREPORTER{n}")
        plan_item(services, item.id, "Public beta")

    def letters() -> list[dict[str, Any]]:
        return [p for p in fake.calls_to("chat.postMessage") if "Shipped" in p["text"]]

    reply = command(slack, fake, "/milestone", "done Public beta", BOB)
    assert reply.endswith("I'm telling the 500 people who asked for what it delivers.")
    assert len(letters()) == POSTED_AT_ONCE  # the rest wait for the time loop

    tick(ticker, clock, utc(11, 30, 8, 1))
    tick(ticker, clock, utc(11, 30, 8, 2))

    assert len({letter["channel"] for letter in letters()}) == len(letters()) == 500
    assert max(len(letter["text"]) for letter in letters()) < 300


def test_another_teams_feedback_hears_nothing_when_a_milestone_of_the_same_name_ships(
    slack: SignedClient, fake: FakeSlack, services: Services
) -> None:
    set_up_team(slack, fake)
    fake.add_channel(OTHER, "other", [ALICE, BOB, CAROL, ERIN])
    command(slack, fake, "/milestone", "add Public beta 2026-12-09", BOB)
    slack.command("/milestone", "add Public beta 2026-12-09", BOB, OTHER)
    item = file(services, "Their idea", team_channel_id=OTHER, reporter_id=ERIN)
    plan_item(services, item.id, "Public beta", OTHER)

    reply = command(slack, fake, "/milestone", "done Public beta", BOB)

    assert reply == "Milestone *Public beta* is done. :tada: No more reminders for it."
    assert shipped(fake, ERIN) == []


def test_a_move_tells_the_product_managers_and_flags_leaving_the_quarter_once(
    slack: SignedClient, fake: FakeSlack, services: Services
) -> None:
    set_up_team(slack, fake)
    command(slack, fake, "/role", f"<@{ERIN}> product", ALICE)
    command(slack, fake, "/role", f"<@{ERIN}> project", ALICE)
    command(slack, fake, "/milestone", "add Public beta 2026-12-09", BOB)
    command(slack, fake, "/milestone", "add Quiet 2026-12-09", BOB)  # no why: no news
    command(slack, fake, "/roadmap", 'add "Self-serve onboarding" 2026-Q4', ALICE)
    command(slack, fake, "/roadmap", 'link "Self-serve onboarding" Public beta', ALICE)
    plan(services, said(slack, fake, "SSO for Acme", CAROL), "Public beta")

    for date_ in ("2026-12-16", "2027-01-06", "2026-12-16", "2026-12-18", "2027-01-08"):
        command(slack, fake, "/milestone", f"move Public beta {date_}", BOB)
    command(slack, fake, "/milestone", "move Public beta 2027-01-09", ERIN)  # Erin moved it
    command(slack, fake, "/milestone", "move Quiet 2026-12-10", BOB)

    news = [t for t in dm_texts(fake, ALICE) if t.startswith(":calendar:")]
    assert news == [
        ":calendar: *Public beta* in #launch moved from Wed 9 Dec 2026 to Wed 16 Dec 2026 "
        "(1 feedback item planned into it), by @bob. It delivers *Self-serve onboarding* "
        "(2026-Q4).",
        ":calendar: *Public beta* in #launch moved from Wed 16 Dec 2026 to Wed 6 Jan 2027 "
        "(1 feedback item planned into it), by @bob. :warning: It now lands after 2026-Q4, "
        "the quarter of *Self-serve onboarding*.",
        # back to the 16th: said before (once per milestone and date)
        ":calendar: *Public beta* in #launch moved from Wed 16 Dec 2026 to Fri 18 Dec 2026 "
        "(1 feedback item planned into it), by @bob. It delivers *Self-serve onboarding* "
        "(2026-Q4).",
        ":calendar: *Public beta* in #launch moved from Fri 18 Dec 2026 to Fri 8 Jan 2027 "
        "(1 feedback item planned into it), by @bob. It delivers *Self-serve onboarding* "
        "(2026-Q4).",
        ":calendar: *Public beta* in #launch moved from Fri 8 Jan 2027 to Sat 9 Jan 2027 "
        "(1 feedback item planned into it), by @erin. It delivers *Self-serve onboarding* "
        "(2026-Q4).",
    ]
    erins = [t for t in dm_texts(fake, ERIN) if t.startswith(":calendar:")]
    assert erins == news[:4]  # not told of her own move
    assert [t for t in dm_texts(fake, BOB) if t.startswith(":calendar:")] == []
    assert not any("Quiet" in t for t in dm_texts(fake, ALICE))


def test_high_risks_put_a_milestone_at_risk_in_its_nudges(
    slack: SignedClient, fake: FakeSlack, services: Services, ticker: Ticker, clock: FixedClock
) -> None:
    set_up_team(slack, fake)
    command(slack, fake, "/milestone", "add Public beta 2026-12-01", BOB)
    beta = milestone(services, "Public beta")
    for impact, likelihood in [
        (Level.HIGH, Level.HIGH),
        (Level.HIGH, Level.MEDIUM),
        (Level.MEDIUM, Level.HIGH),
        (Level.HIGH, Level.LOW),
    ]:
        file(
            services,
            "risk",
            kind=ItemKind.OPERATIONAL_RISK,
            milestone_id=beta.id,
            impact=impact,
            likelihood=likelihood,
        )
    closed = file(
        services,
        "gone",
        kind=ItemKind.MARKET_RISK,
        milestone_id=beta.id,
        impact=Level.HIGH,
        likelihood=Level.HIGH,
        status=ItemStatus.CLOSED,
    )
    assert closed.id is not None

    tick(ticker, clock, utc(11, 30, 9))

    assert nudges(fake)[-1] == (
        ":calendar: Milestone *Public beta* is due tomorrow (Tue 1 Dec 2026) · :warning: "
        "*at risk*: 2 high risks"
    )

"""What each manager sees of the handoff, through signed requests: App Home (`app_home_opened`)
and the `/digest` preview. The product manager sees open market risks and this quarter's
roadmap, the project manager open operational risks and scope accepted after a freeze, both
every milestone's why; nobody sees another team's."""

import json
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import delete

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
    Theme,
)
from storage.planning import PlanningStore
from storage.roadmap import Quarter, ThemeStore
from tests.conftest import ALICE, BOB, CAROL, DAVE, ERIN, TEAM, FixedClock
from tests.handlers.scenario import command, ephemerals, set_up_team, utc
from tests.handlers.test_home import open_home, seen

OTHER_TEAM = "CMOBILE"
MARKET, OPERATIONAL = ItemKind.MARKET_RISK, ItemKind.OPERATIONAL_RISK
HIGH = {"likelihood": Level.MEDIUM, "impact": Level.HIGH}


@pytest.fixture(autouse=True)
def no_late_refreshes(services: Services) -> Iterator[list[Callable[[], None]]]:
    """A refresh deferred to the end of its window is kept here, never run after the test."""
    deferred: list[Callable[[], None]] = []
    services.home.schedule = lambda _, work: deferred.append(work)
    yield deferred


class Rows:
    """Rows made through the stores, as the other commands would make them."""

    def __init__(self, services: Services, clock: FixedClock) -> None:
        self.db, self.workspace = services.db, services.workspace_id
        self.clock = clock
        self.items = ItemStore(self.db, self.workspace)
        self.planning = PlanningStore(self.db, self.workspace)
        self.themes = ThemeStore(self.db, self.workspace)
        self.handoffs = HandoffStore(self.db, self.workspace)
        # The PostgreSQL fixture empties the tables it knows; themes are newer than its list.
        with self.db.writing() as session:
            session.execute(delete(Theme))
            session.commit()

    def item(
        self, text: str, kind: ItemKind, team: str = TEAM, reporter: str = ERIN, **fields: Any
    ) -> Item:
        item = Item(
            kind=kind,
            team_channel_id=team,
            text=text,
            reporter_id=reporter,
            created_at=self.clock.now,
            updated_at=self.clock.now,
            **fields,
        )
        filed, created = self.items.file(item)
        assert created and filed.id is not None
        self.clock.now += timedelta(minutes=1)  # newest is well defined
        return filed

    def milestone(self, name: str, due: date, team: str = TEAM, **fields: Any) -> Milestone:
        milestone = Milestone(
            team_channel_id=team,
            name=name,
            name_key=name.casefold(),
            due_date=due,
            created_by=BOB,
            created_at=self.clock.now,
            scheduled_at=self.clock.now,
            **fields,
        )
        assert self.planning.add_milestone(milestone) and milestone.id is not None
        return milestone

    def planned(self, text: str, milestone: Milestone, votes: int) -> Item:
        item = self.item(
            text, ItemKind.FEEDBACK, milestone.team_channel_id, status=ItemStatus.PLANNED
        )
        assert item.id is not None
        self.items.transition(
            item.id, (ItemStatus.PLANNED,), None, ALICE, self.clock.now, milestone_id=milestone.id
        )
        for n in range(votes):
            self.items.add_vote(item.id, f"UVOTER{n}", self.clock.now)
        return item

    def theme(self, name: str, quarter: Quarter, team: str = TEAM) -> Theme:
        theme = Theme(
            team_channel_id=team,
            name=name,
            name_key=name.casefold(),
            year=quarter.year,
            quarter=quarter.number,
            created_by=ALICE,
            created_at=self.clock.now,
        )
        assert self.themes.add(theme) and theme.id is not None
        return theme

    def accepted_creep(self, milestone: Milestone, text: str) -> None:
        item = self.item(text, ItemKind.FEEDBACK, milestone.team_channel_id)
        assert item.id is not None and milestone.id is not None
        handoff = Handoff(
            team_channel_id=milestone.team_channel_id,
            item_id=item.id,
            kind=HandoffKind.SCOPE_CREEP,
            milestone_id=milestone.id,
            requested_by=ALICE,
            requested_at=self.clock.now,
        )
        assert self.handoffs.request(handoff, (ItemStatus.OPEN,), lambda _: [], self.clock.now)
        assert handoff.id is not None
        assert self.handoffs.decide(handoff.id, HandoffStatus.ACCEPTED, BOB, self.clock.now)


@pytest.fixture
def rows(services: Services, clock: FixedClock) -> Rows:
    return Rows(services, clock)


@pytest.fixture
def two_teams(slack: SignedClient, fake: FakeSlack, rows: Rows) -> dict[str, Any]:
    """#launch (Alice product, Bob project) with risks, a themed milestone with planned
    feedback and scope accepted after its freeze; #mobile (Dave both roles) with its own."""
    set_up_team(slack, fake)
    fake.add_channel(OTHER_TEAM, "mobile", [DAVE, ERIN])
    command_in(slack, fake, OTHER_TEAM, f"<@{DAVE}|dave> product", DAVE)
    command_in(slack, fake, OTHER_TEAM, f"<@{DAVE}|dave> project", DAVE)
    beta = rows.milestone("Public beta", date(2026, 12, 9), freeze_date=date(2026, 12, 1))
    ga = rows.milestone("GA", date(2027, 2, 1))
    onboarding = rows.theme("Self-serve onboarding", Quarter(2026, 4))
    assert beta.id and ga.id and onboarding.id
    assert rows.themes.link(beta.id, onboarding.id) and rows.themes.link(ga.id, onboarding.id)
    rows.planned("CSV export", beta, votes=5)
    rows.planned("SSO", beta, votes=1)
    rows.planned("Audit log", beta, votes=0)
    for n in range(2):
        rows.accepted_creep(beta, f"late ask {n}")
    churn = rows.item("Churn in SMB", MARKET)
    price = rows.item("Competitor cuts prices", MARKET, milestone_id=beta.id, **HIGH)
    rows.item("Old worry", MARKET, status=ItemStatus.CLOSED, **HIGH)
    rows.item("Vendor outage", OPERATIONAL, assignee_id=BOB)
    rows.item("Mobile pricing", MARKET, OTHER_TEAM, **HIGH)
    rows.item("App store review", OPERATIONAL, OTHER_TEAM)
    rows.theme("Tablet", Quarter(2026, 4), OTHER_TEAM)
    return {"beta": beta, "price": price, "churn": churn}


def command_in(slack: SignedClient, fake: FakeSlack, channel: str, text: str, user: str) -> None:
    before = len(ephemerals(fake, user))
    assert slack.command("/role", text, user, channel).status_code == 200
    fake.wait_for(lambda: len(ephemerals(fake, user)) > before)


def risk_rows(view: dict[str, Any]) -> dict[str, list[str]]:
    """Each risk row's item id → the values its buttons carry."""
    found: dict[str, list[str]] = {}
    for block in view["blocks"]:
        block_id = block.get("block_id", "")
        name = block_id.removeprefix("home_risk_")
        if block_id.startswith("home_risk_") and name.isdigit():
            found[name] = []
        elif block_id.endswith("_actions") and name.removesuffix("_actions") in found:
            found[name.removesuffix("_actions")] = [e["value"] for e in block["elements"]]
    return found


def test_each_manager_sees_their_risks_and_why_each_milestone_exists_in_app_home(
    slack: SignedClient, fake: FakeSlack, two_teams: dict[str, Any]
) -> None:
    price, churn = str(two_teams["price"].id), str(two_teams["churn"].id)

    alice = open_home(slack, fake, ALICE)

    shown = seen(fake, alice)
    assert "Market risks: 2 open, 1 high" in shown
    assert "Open market risks, high first (2 open, 1 high)\n" in shown
    assert (
        f"#{price} Competitor cuts prices\n:rotating_light: high · likelihood medium · "
        "impact high · no owner · threatens Public beta · #launch"
    ) in shown
    buttons = risk_rows(alice)
    assert list(buttons) == [price, churn]  # high first
    assert buttons[price] and set(buttons[price]) == {price}  # the risk's own buttons
    assert "This quarter (2026-Q4)\nSelf-serve onboarding in #launch — 0 of 2 milestones done" in (
        shown
    )
    assert (
        "◦ Public beta · due Wed 9 Dec 2026 · 3 planned · why: #" in shown
        and "CSV export (5 +1s), #" in shown
        and "SSO (1 +1), +1 more" in shown
    )
    assert "Vendor outage" not in shown and "Operational risks" not in shown
    assert "Mobile pricing" not in shown and "Tablet" not in shown  # another team's

    bob = seen(fake, open_home(slack, fake, BOB))
    assert "Operational risks: 1 open" in bob
    assert "Vendor outage\nlikelihood not set · impact not set · owner @bob · #launch" in bob
    assert "Public beta in #launch: Wed 9 Dec 2026 (in 9 days)" in bob
    assert "at risk: 1 high risk · 3 planned · why: #" in bob
    assert "Competitor cuts prices" not in bob and "App store review" not in bob

    dave = seen(fake, open_home(slack, fake, DAVE))
    assert "Market risks: 1 open, 1 high" in dave and "Operational risks: 1 open" in dave
    assert "Mobile pricing" in dave and "App store review" in dave
    assert "Competitor cuts prices" not in dave and "Self-serve onboarding" not in dave
    assert "Tablet in #mobile — no milestones yet" in dave

    # Erin raised every risk but holds no role: her Home lists what she raised, no sections.
    erin = seen(fake, open_home(slack, fake, ERIN))
    assert "What you raised" in erin and "Competitor cuts prices" in erin
    for section in ("Market risks:", "Open market risks", "Open operational risks", "This quarter"):
        assert section not in erin


def test_the_digest_preview_gives_each_role_its_side_of_the_handoff(
    slack: SignedClient, fake: FakeSlack, two_teams: dict[str, Any]
) -> None:
    price = two_teams["price"].id
    before = len(ephemerals(fake, CAROL))

    slack.command("/digest", "", CAROL, TEAM)

    fake.wait_for(lambda: len(ephemerals(fake, CAROL)) == before + 3)
    _, product, project = ephemerals(fake, CAROL)[before:]
    assert (
        "*Roadmap, 2026-Q4*\n• *Self-serve onboarding* — 0 of 2 milestones done\n"
        "*Open market risks, high first* (2, 1 high)\n"
        f"• *#{price}* Competitor cuts prices — :rotating_light: *high* · likelihood medium · "
        "impact high · no owner · threatens *Public beta*\n"
    ) in product
    assert "Churn in SMB — likelihood not set · impact not set · no owner" in product
    assert "Old worry" not in product and "Vendor outage" not in product
    assert "*Open operational risks, high first* (1)\n" in project
    assert "Vendor outage — likelihood not set · impact not set · owner bob" in project
    assert (
        "*Scope creep: items accepted after a milestone's freeze*\n"
        "• *Public beta*: 2 items accepted after the freeze"
    ) in project
    for reply in (product, project):
        assert "Mobile pricing" not in reply and "App store review" not in reply
        assert "Tablet" not in reply


def test_the_digest_and_home_show_the_quarter_of_the_teams_own_day(
    slack: SignedClient, fake: FakeSlack, rows: Rows, clock: FixedClock
) -> None:
    set_up_team(slack, fake)
    command(slack, fake, "/rolecall", "timezone Pacific/Auckland", ALICE)
    rows.theme("Growth", Quarter(2027, 1))
    rows.theme("Holiday sale", Quarter(2026, 4))
    clock.now = utc(12, 31, 12)  # 1 January 2027, 01:00 in Auckland

    before = len(ephemerals(fake, ALICE))
    slack.command("/digest", "", ALICE, TEAM)
    fake.wait_for(lambda: len(ephemerals(fake, ALICE)) == before + 3)

    product = ephemerals(fake, ALICE)[before + 1]
    assert "*Roadmap, 2027-Q1*\n• *Growth* — no milestones yet\n" in product
    assert "Holiday sale" not in product
    home = seen(fake, open_home(slack, fake, ALICE))  # App Home counts the team's day too
    assert "This quarter (2027-Q1)\nGrowth in #launch" in home
    assert "Holiday sale" not in home


def test_a_manager_of_both_roles_with_hundreds_of_rows_gets_a_home_within_100_blocks(
    slack: SignedClient, fake: FakeSlack, rows: Rows
) -> None:
    """The fake rejects a view over Slack's limits; the fixture asserts it never did."""
    set_up_team(slack, fake)
    command(slack, fake, "/role", f"<@{ALICE}|alice> project", ALICE)
    long = "Customers &amp; <!channel> partners keep asking " * 30
    milestones = [rows.milestone(f"{'M' * 150}{n}", date(2026, 12, 1 + n)) for n in range(12)]
    for n in range(8):
        theme = rows.theme(f"{'T' * 150}{n}", Quarter(2026, 4))
        for milestone in milestones:
            assert theme.id and milestone.id and rows.themes.link(milestone.id, theme.id)
    for milestone in milestones:
        for n in range(3):
            rows.planned(f"{n} {long}", milestone, votes=n)
    for n in range(30):
        rows.item(f"{n} {long}", ItemKind.FEEDBACK, reporter=ALICE)
        rows.item(f"{n} {long}", ItemKind.BLOCKER)
        rows.item(f"{n} {long}", MARKET, **HIGH)
        rows.item(f"{n} {long}", OPERATIONAL, milestone_id=milestones[0].id)

    view = open_home(slack, fake, ALICE)

    assert len(view["blocks"]) <= 100
    assert view["blocks"][-1]["block_id"] == "home_how_to"  # nothing cut off
    shown = seen(fake, view)
    assert "Market risks: 30 open, 30 high" in shown and "Operational risks: 30 open" in shown
    assert "…and 26 more." in shown  # each risk section: 4 of 30
    assert "…and 4 more." in shown  # themes: 4 of 8
    assert "<!channel>" not in json.dumps(view["blocks"])

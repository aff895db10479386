"""The reads behind each role's digest reply and App Home: open risks high first, a batch of
milestones' whys, the quarter's themes and scope accepted after a freeze (SQLite and
PostgreSQL), each for one workspace and one team."""

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import delete

from storage.db import Database
from storage.digest import DigestStore
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
from storage.queues import QueueStore
from storage.roadmap import Quarter, ThemeStore
from tests.conftest import WORKSPACE
from tests.storage.test_items import NOW
from tests.storage.test_planning import _milestone

OTHER_WORKSPACE = "T0002"
MARKET, OPERATIONAL = ItemKind.MARKET_RISK, ItemKind.OPERATIONAL_RISK


@pytest.fixture(autouse=True)
def no_themes_of_earlier_tests(db: Database) -> Iterator[None]:
    """The PostgreSQL fixture empties the tables it knows; themes are newer than its list."""
    with db.writing() as session:
        session.execute(delete(Theme))
        session.commit()
    yield


def file(
    db: Database,
    text: str,
    kind: ItemKind = MARKET,
    *,
    workspace: str = WORKSPACE,
    team: str = "C1",
    age_days: int = 0,
    **fields: Any,
) -> Item:
    at = NOW - timedelta(days=age_days)
    item = Item(
        kind=kind,
        team_channel_id=team,
        text=text,
        reporter_id="U1",
        created_at=at,
        updated_at=at,
        **fields,
    )
    filed, created = ItemStore(db, workspace).file(item)
    assert created and filed.id is not None
    return filed


def test_open_risks_come_high_first_then_newest_with_their_milestone_and_counts(
    db: Database,
) -> None:
    queues = QueueStore(db, WORKSPACE)
    beta = _milestone(PlanningStore(db, WORKSPACE), "Public beta", date(2026, 12, 9))
    high: dict[str, Any] = {"likelihood": Level.MEDIUM, "impact": Level.HIGH}
    old_high = file(db, "competitor cuts prices", age_days=9, milestone_id=beta.id, **high)
    file(db, "churn in SMB", age_days=5, likelihood=Level.HIGH, impact=Level.LOW)
    newest = file(db, "a big deal slips", age_days=1, likelihood=Level.LOW, impact=Level.HIGH)
    mitigating = file(db, "pricing page", age_days=3, status=ItemStatus.MITIGATING)
    for status in (ItemStatus.ACCEPTED, ItemStatus.CLOSED):
        file(db, f"{status} risk", status=status, **high)  # not open: never shown nor counted
    file(db, "vendor outage", OPERATIONAL, **high)  # the other role's kind
    file(db, "in another team", team="C2", **high)
    file(db, "in another workspace", workspace=OTHER_WORKSPACE, **high)
    done = _milestone(PlanningStore(db, WORKSPACE), "Alpha", date(2026, 11, 1))
    assert done.id and PlanningStore(db, WORKSPACE).close(Milestone, done.id, "UPJ", NOW)
    file(db, "alpha slipped", age_days=20, milestone_id=done.id)  # no longer threatens it

    risks = queues.open_risks(["C1"], MARKET, limit=3)

    assert [(r.item.text, r.high, r.milestone) for r in risks.shown] == [
        (old_high.text, True, "Public beta"),
        (newest.text, False, None),
        (mitigating.text, False, None),
    ]
    assert (risks.total, risks.high) == (5, 1)
    assert queues.open_risks(["C1"], MARKET, limit=5).shown[-1].milestone is None
    both = queues.open_risks(["C1", "C2"], MARKET, limit=1)
    assert (len(both.shown), both.total, both.high) == (1, 6, 2)
    operational = queues.open_risks(["C1"], OPERATIONAL, limit=5)
    assert [r.item.text for r in operational.shown] == ["vendor outage"]
    assert QueueStore(db, OTHER_WORKSPACE).open_risks(["C1"], MARKET, 5).total == 1
    assert queues.open_risks([], MARKET, 5).total == 0


def test_whys_of_several_milestones_in_one_read(db: Database) -> None:
    planning, items = PlanningStore(db, WORKSPACE), ItemStore(db, WORKSPACE)
    beta = _milestone(planning, "Beta", date(2026, 12, 9))
    ga = _milestone(planning, "GA", date(2027, 1, 20))
    empty = _milestone(planning, "Empty", date(2027, 2, 1))
    assert beta.id and ga.id and empty.id
    for text, milestone, votes, status in [
        ("csv export", beta.id, 5, ItemStatus.PLANNED),
        ("sso", beta.id, 2, ItemStatus.PLANNED),
        ("audit log", beta.id, 0, ItemStatus.PLANNED),
        ("dark mode", beta.id, 9, ItemStatus.OPEN),  # linked but not planned
        ("api keys", ga.id, 1, ItemStatus.PLANNED),
    ]:
        item = file(db, text, ItemKind.FEEDBACK, status=status, milestone_id=milestone)
        assert item.id is not None
        for n in range(votes):
            items.add_vote(item.id, f"UV{n}", NOW)

    whys = planning.why_of([beta.id, ga.id, empty.id], limit=2)

    assert {m: ([e.item.text for e in shown], total) for m, (shown, total) in whys.items()} == {
        beta.id: (["csv export", "sso"], 3),
        ga.id: (["api keys"], 1),
    }
    assert whys[beta.id][0][0].votes == 5
    assert PlanningStore(db, OTHER_WORKSPACE).why_of([beta.id], 2) == {}
    assert planning.why_of([], 2) == {}


def accept_creep(db: Database, milestone: Milestone, status: HandoffStatus, n: int) -> None:
    """Feedback handed to the project manager as scope creep into the milestone, decided."""
    handoffs = HandoffStore(db, WORKSPACE)
    item = file(db, f"creep {milestone.name} {n}", ItemKind.FEEDBACK)
    assert item.id is not None and milestone.id is not None
    handoff = Handoff(
        team_channel_id=milestone.team_channel_id,
        item_id=item.id,
        kind=HandoffKind.SCOPE_CREEP,
        milestone_id=milestone.id,
        requested_by="UPM",
        requested_at=NOW,
    )
    assert handoffs.request(handoff, (ItemStatus.OPEN,), lambda _: [], NOW) is not None
    assert handoff.id is not None
    assert handoffs.decide(handoff.id, status, "UPJ", NOW)


def test_the_project_digest_counts_scope_accepted_after_a_freeze_per_open_milestone(
    db: Database,
) -> None:
    planning = PlanningStore(db, WORKSPACE)
    beta = _milestone(planning, "Public beta", date(2026, 12, 9))
    ga = _milestone(planning, "GA", date(2026, 12, 20))
    done = _milestone(planning, "Alpha", date(2026, 11, 1))
    elsewhere = _milestone(planning, "Public beta", date(2026, 12, 9), team="C2")
    for n in range(2):
        accept_creep(db, beta, HandoffStatus.ACCEPTED, n)
    accept_creep(db, beta, HandoffStatus.DEFERRED, 9)  # sent elsewhere: not in its scope
    accept_creep(db, ga, HandoffStatus.ACCEPTED, 0)
    accept_creep(db, done, HandoffStatus.ACCEPTED, 0)
    accept_creep(db, elsewhere, HandoffStatus.ACCEPTED, 0)
    assert done.id is not None and planning.close(Milestone, done.id, "UPJ", NOW)

    digest = DigestStore(db, WORKSPACE).project(
        "C1", NOW - timedelta(days=7), NOW, NOW.date(), NOW.date() + timedelta(days=14), 5
    )

    assert [(c.milestone.name, c.accepted) for c in digest.scope_creep] == [
        ("Public beta", 2),
        ("GA", 1),
    ]


def test_the_product_digest_shows_the_quarters_themes_and_open_market_risks(
    db: Database,
) -> None:
    themes, planning = ThemeStore(db, WORKSPACE), PlanningStore(db, WORKSPACE)
    q4, q1 = Quarter(2026, 4), Quarter(2027, 1)
    for name, quarter, team in [
        ("Self-serve onboarding", q4, "C1"),
        ("Enterprise", q1, "C1"),  # next quarter
        ("Mobile", q4, "C2"),  # another team
    ]:
        assert themes.add(
            Theme(
                team_channel_id=team,
                name=name,
                name_key=name.lower(),
                year=quarter.year,
                quarter=quarter.number,
                created_by="UPM",
                created_at=NOW,
            )
        )
    onboarding = themes.named("C1", "self-serve onboarding")
    beta = _milestone(planning, "Beta", date(2026, 12, 1))
    assert onboarding and onboarding.id and beta.id
    assert themes.link(beta.id, onboarding.id)
    file(db, "competitor launch", likelihood=Level.HIGH, impact=Level.HIGH)

    digest = DigestStore(db, WORKSPACE).product("C1", NOW - timedelta(days=7), NOW, 5, q4)

    assert digest.quarter == q4
    assert [(p.theme.name, p.done, p.total) for p in digest.themes] == [
        ("Self-serve onboarding", 0, 1)
    ]
    assert [r.item.text for r in digest.market_risks.shown] == ["competitor launch"]
    assert digest.market_risks.high == 1
    assert DigestStore(db, WORKSPACE).product("C1", NOW, NOW, 5).themes == []

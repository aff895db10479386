"""Roadmap themes and their quarters; the feedback behind a milestone (SQLite and PostgreSQL)."""

from datetime import date
from typing import Any

import pytest

from storage.db import Database
from storage.items import ItemStore
from storage.models import Item, ItemKind, ItemStatus, Level, Milestone, Theme, WorkStatus
from storage.planning import PlanningStore
from storage.roadmap import DeliveryStore, MilestoneState, Quarter, ThemeStore
from tests.conftest import WORKSPACE
from tests.storage.test_items import NOW, new_item
from tests.storage.test_planning import _milestone


@pytest.mark.parametrize(
    ("day", "quarter", "first", "last"),
    [
        (date(2027, 1, 1), Quarter(2027, 1), date(2027, 1, 1), date(2027, 3, 31)),
        (date(2027, 6, 30), Quarter(2027, 2), date(2027, 4, 1), date(2027, 6, 30)),
        (date(2026, 12, 31), Quarter(2026, 4), date(2026, 10, 1), date(2026, 12, 31)),
    ],
)
def test_a_day_falls_in_one_quarter(day: date, quarter: Quarter, first: date, last: date) -> None:
    assert Quarter.of(day) == quarter
    assert (quarter.first_day, quarter.last_day) == (first, last)
    assert str(Quarter(2027, 1)) == "2027-Q1"


def _theme(name: str, quarter: Quarter, team: str = "C1") -> Theme:
    return Theme(
        team_channel_id=team,
        name=name,
        name_key=name.lower(),
        year=quarter.year,
        quarter=quarter.number,
        created_by="UPM",
        created_at=NOW,
    )


def test_a_quarters_themes_count_their_milestones_done(db: Database) -> None:
    themes, planning = ThemeStore(db, WORKSPACE), PlanningStore(db, WORKSPACE)
    onboarding = _theme("Self-serve onboarding", Quarter(2027, 1))
    assert themes.add(onboarding)
    assert not themes.add(_theme("self-serve onboarding", Quarter(2027, 2)))  # the same name
    assert themes.add(_theme("Self-serve onboarding", Quarter(2027, 1), team="C2"))
    assert themes.add(_theme("Enterprise", Quarter(2027, 2)))
    beta = _milestone(planning, "Beta", date(2027, 2, 1))
    launch = _milestone(planning, "Launch", date(2027, 3, 1))
    _milestone(planning, "Unthemed", date(2027, 3, 2))
    assert onboarding.id and beta.id and launch.id
    assert themes.link(beta.id, onboarding.id) and themes.link(launch.id, onboarding.id)
    assert planning.close(type(beta), beta.id, "UPJ", NOW)

    [progress] = themes.progress("C1", Quarter(2027, 1))
    assert (progress.theme.name, progress.done, progress.total) == ("Self-serve onboarding", 1, 2)
    assert [t.name for t in themes.of_team("C1", since=Quarter(2027, 2))] == ["Enterprise"]
    linked = themes.milestones([onboarding.id])[onboarding.id]
    assert [(m.name, m.status) for m in linked] == [
        ("Beta", WorkStatus.DONE),
        ("Launch", WorkStatus.OPEN),
    ]
    assert themes.link(launch.id, None)
    assert [m.name for m in themes.milestones([onboarding.id])[onboarding.id]] == ["Beta"]


def test_a_milestones_why_is_its_planned_feedback_most_voted_first(db: Database) -> None:
    planning, items = PlanningStore(db, WORKSPACE), ItemStore(db, WORKSPACE)
    beta = _milestone(planning, "Beta", date(2027, 2, 1))
    assert beta.id is not None
    for text, votes, status in [
        ("csv export", 1, ItemStatus.PLANNED),
        ("sso", 5, ItemStatus.PLANNED),
        ("dark mode", 9, ItemStatus.OPEN),  # linked but not planned: not a reason yet
    ]:
        item, _ = items.file(new_item(text))
        assert item.id is not None
        items.transition(item.id, (ItemStatus.OPEN,), status, "UPM", NOW, milestone_id=beta.id)
        for n in range(votes):
            items.add_vote(item.id, f"UV{n}", NOW)
    shown, total = planning.why(beta.id, limit=1)
    assert total == 2
    assert [(q.item.text, q.votes) for q in shown] == [("sso", 5)]


def _risk(
    items: ItemStore, milestone_id: int, impact: Level, likelihood: Level, **more: Any
) -> Item:
    risk = new_item("risk", kind=more.pop("kind", ItemKind.MARKET_RISK))
    risk.milestone_id, risk.impact, risk.likelihood = milestone_id, impact, likelihood
    for name, value in more.items():
        setattr(risk, name, value)
    filed, _ = items.file(risk)
    return filed


def test_open_high_risks_put_a_milestone_at_risk_like_blockers(db: Database) -> None:
    planning, items = PlanningStore(db, WORKSPACE), ItemStore(db, WORKSPACE)
    beta = _milestone(planning, "Beta", date(2026, 12, 5))
    ga = _milestone(planning, "GA", date(2026, 12, 20))
    late = _milestone(planning, "Late", date(2026, 12, 30))
    assert beta.id and ga.id and late.id
    _risk(items, beta.id, Level.HIGH, Level.LOW)  # unlikely
    _risk(items, beta.id, Level.MEDIUM, Level.HIGH)  # would not hurt enough
    _risk(items, beta.id, Level.HIGH, Level.HIGH, status=ItemStatus.CLOSED)  # gone
    _risk(items, ga.id, Level.HIGH, Level.MEDIUM, kind=ItemKind.OPERATIONAL_RISK)
    _risk(items, late.id, Level.HIGH, Level.HIGH, status=ItemStatus.MITIGATING)
    blocker = new_item("keys", kind=ItemKind.BLOCKER)
    blocker.milestone_id = late.id
    items.file(blocker)

    tracked = planning.tracked("C1")
    assert [(t.milestone.name, t.open_blockers, t.high_risks, t.at_risk) for t in tracked] == [
        ("Beta", 0, 0, False),
        ("GA", 0, 1, True),
        ("Late", 1, 1, True),
    ]
    shown, total = planning.due_milestones({"C1": date(2026, 12, 31)}, limit=2)
    assert ([t.milestone.name for t in shown], total) == (["GA", "Late"], 3)


def test_the_roadmap_is_this_quarter_on_and_older_themes_still_open(db: Database) -> None:
    themes, planning = ThemeStore(db, WORKSPACE), PlanningStore(db, WORKSPACE)
    for name, quarter, team in [
        ("Old and done", Quarter(2026, 3), "C1"),
        ("Old and open", Quarter(2026, 2), "C1"),
        ("Now", Quarter(2026, 4), "C1"),
        ("Next", Quarter(2027, 1), "C1"),
        ("Theirs", Quarter(2027, 1), "C2"),
    ]:
        assert themes.add(_theme(name, quarter, team))
    done = _milestone(planning, "Done", date(2026, 9, 1))
    still = _milestone(planning, "Still", date(2026, 6, 1))
    assert done.id and still.id
    old_done, old_open = themes.named("C1", "old and done"), themes.named("C1", "old and open")
    assert old_done and old_done.id and old_open and old_open.id
    themes.link(done.id, old_done.id)
    themes.link(still.id, old_open.id)
    assert planning.close(type(done), done.id, "UPJ", NOW)

    shown, total = themes.on_roadmap("C1", Quarter(2026, 4), limit=2)
    assert ([t.name for t in shown], total) == (["Old and open", "Now"], 3)
    assert [t.name for t in themes.on_roadmap("C2", Quarter(2026, 4), limit=9)[0]] == ["Theirs"]
    assert ThemeStore(db, "T-OTHER").on_roadmap("C1", Quarter(2026, 4), limit=9) == ([], 0)


def test_removing_a_theme_unlinks_its_milestones(db: Database) -> None:
    themes, planning = ThemeStore(db, WORKSPACE), PlanningStore(db, WORKSPACE)
    theme = _theme("Onboarding", Quarter(2027, 1))
    assert themes.add(theme) and theme.id
    for name in ("Beta", "GA"):
        milestone = _milestone(planning, name, date(2027, 2, 1))
        assert milestone.id and themes.link(milestone.id, theme.id)

    assert ThemeStore(db, "T-OTHER").remove(theme.id) is None  # another workspace's: untouched
    assert themes.remove(theme.id) == 2
    assert themes.get(theme.id) is None and themes.remove(theme.id) is None
    assert all(t.milestone.theme_id is None for t in planning.tracked("C1"))
    assert themes.add(_theme("Onboarding", Quarter(2027, 2)))  # the name is free again


def test_what_stands_in_a_milestones_way_and_who_asked_for_it(db: Database) -> None:
    planning, items = PlanningStore(db, WORKSPACE), ItemStore(db, WORKSPACE)
    deliveries = DeliveryStore(db, WORKSPACE)
    beta = _milestone(planning, "Beta", date(2027, 2, 1))
    assert beta.id is not None
    for text, status in [
        ("a", ItemStatus.OPEN),
        ("b", ItemStatus.ACKNOWLEDGED),
        ("c", ItemStatus.RESOLVED),
        ("d", ItemStatus.OPEN),
    ]:
        blocker = new_item(text, kind=ItemKind.BLOCKER)
        blocker.milestone_id, blocker.status = beta.id, status
        items.file(blocker)
    high = _risk(items, beta.id, Level.HIGH, Level.MEDIUM)
    _risk(items, beta.id, Level.LOW, Level.HIGH)
    for text, reporter, voters, status in [
        ("sso", "UR1", ["UV1", "UR2"], ItemStatus.PLANNED),
        ("audit", "UR2", ["UV2", "UV1", "UV3"], ItemStatus.PLANNED),
        ("dark", "UR3", ["UV4"], ItemStatus.OPEN),  # linked, not planned
    ]:
        item, _ = items.file(new_item(text, reporter=reporter))
        assert item.id is not None
        for voter in voters:
            items.add_vote(item.id, voter, NOW)
        items.transition(item.id, (ItemStatus.OPEN,), status, "UPM", NOW, milestone_id=beta.id)

    in_the_way = deliveries.in_the_way(beta.id, limit=2)
    assert [b.text for b in in_the_way.blockers] == ["a", "b"]
    assert (in_the_way.blocker_total, in_the_way.risk_total) == (3, 1)
    assert [r.id for r in in_the_way.risks] == [high.id]
    asked = deliveries.asked_for(beta.id)
    assert [(a.item.text, a.voters) for a in asked] == [
        ("audit", ["UV2", "UV1", "UV3"]),
        ("sso", ["UV1", "UR2"]),
    ]
    assert DeliveryStore(db, "T-OTHER").asked_for(beta.id) == []


@pytest.mark.parametrize(
    ("status", "due", "at_risk", "quarter", "state"),
    [
        (WorkStatus.DONE, date(2026, 11, 1), True, Quarter(2026, 3), MilestoneState.DONE),
        (WorkStatus.OPEN, date(2026, 11, 29), False, None, MilestoneState.SLIPPED),  # overdue
        (WorkStatus.OPEN, date(2027, 1, 4), False, Quarter(2026, 4), MilestoneState.SLIPPED),
        (WorkStatus.OPEN, date(2026, 12, 31), True, Quarter(2026, 4), MilestoneState.AT_RISK),
        (WorkStatus.OPEN, date(2026, 11, 30), False, Quarter(2026, 4), MilestoneState.ON_TRACK),
    ],
)
def test_a_milestone_is_done_slipped_at_risk_or_on_track(
    status: WorkStatus, due: date, at_risk: bool, quarter: Quarter | None, state: MilestoneState
) -> None:
    milestone = Milestone(
        team_channel_id="C1",
        name="M",
        name_key="m",
        due_date=due,
        status=status,
        created_by="U1",
        created_at=NOW,
        scheduled_at=NOW,
    )
    assert MilestoneState.of(milestone, at_risk, date(2026, 11, 30), quarter) is state

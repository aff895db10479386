"""Roadmap themes and their quarters; the feedback behind a milestone (SQLite and PostgreSQL)."""

from datetime import date

import pytest

from storage.db import Database
from storage.items import ItemStore
from storage.models import ItemStatus, Theme, WorkStatus
from storage.planning import PlanningStore
from storage.roadmap import Quarter, ThemeStore
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

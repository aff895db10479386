"""The reads App Home makes (SQLite and PostgreSQL): pages merged team by team, pages from
items already read, capped counts, what one person raised, and the project manager's calendar."""

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from bot.schedule import zone
from storage.db import Database
from storage.items import ItemStore
from storage.models import Deadline, Item, ItemKind, ItemStatus, Milestone
from storage.planning import PlanningStore
from storage.queues import QueueOrder, QueueQuery, QueueStore, cursor_of, page_from
from tests.conftest import WORKSPACE

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
TODAY = NOW.date()


def add(items: ItemStore, n: int, **fields: Any) -> int:
    values: dict[str, Any] = {
        "kind": ItemKind.FEEDBACK,
        "team_channel_id": "C1",
        "text": f"item {n}",
        "reporter_id": "U1",
        "created_at": NOW - timedelta(minutes=n // 2),  # pairs share a time
        "updated_at": NOW,
    }
    values.update(fields)
    filed, _ = items.file(Item(**values))
    assert filed.id is not None
    return filed.id


def walk(read: Any, size: int) -> list[int]:
    """Every id a paged read gives, page after page."""
    found: list[int] = []
    after: str | None = None
    while True:
        page = read(size, after)
        found += [entry.item.id for entry in page.entries]
        if page.after is None:
            return found
        after = page.after


@pytest.fixture
def seeded(db: Database) -> tuple[QueueStore, dict[int, int]]:
    items = ItemStore(db, WORKSPACE)
    ids = {
        n: add(items, n, team_channel_id=("C1", "C2", "C3")[n % 3], vote_count=n % 4)
        for n in range(40)
    }
    add(items, 99, team_channel_id="C1", status=ItemStatus.PLANNED)
    add(items, 98, team_channel_id="C1", kind=ItemKind.BLOCKER)
    return QueueStore(db, WORKSPACE), ids


@pytest.mark.parametrize("order", list(QueueOrder))
def test_pages_read_team_by_team_are_the_pages_of_one_read(
    seeded: tuple[QueueStore, dict[int, int]], order: QueueOrder
) -> None:
    queues, _ = seeded
    query = QueueQuery(("C1", "C2"), ItemKind.FEEDBACK, (ItemStatus.OPEN,), order=order)
    expected = walk(lambda size, after: queues.page(query, size, after), 1000)
    assert len(expected) == 27
    for size in (1, 4, 7):
        assert walk(lambda size, after: queues.page(query, size, after), size) == expected


@pytest.mark.parametrize("order", list(QueueOrder))
def test_pages_from_items_already_read_are_the_same_pages(
    seeded: tuple[QueueStore, dict[int, int]], order: QueueOrder
) -> None:
    queues, _ = seeded
    query = QueueQuery(("C1", "C2", "C3"), ItemKind.FEEDBACK, (ItemStatus.OPEN,), order=order)
    everything = queues.page(query, 1000).entries
    voted = QueueQuery(query.teams, query.kind, query.statuses, order=order, min_votes=2)
    shuffled = everything[::-1]
    for wanted in (query, voted):
        expected = walk(lambda size, after, q=wanted: queues.page(q, size, after), 1000)
        for size in (1, 5):
            assert walk(lambda s, a, q=wanted: page_from(shuffled, q, s, a), size) == expected
    # A cursor made for a row a caller showed starts right after it.
    third = everything[2].item
    after = cursor_of(third, order)
    assert page_from(everything, query, 1, after).entries[0].item.id == everything[3].item.id
    assert queues.page(query, 1, after).entries[0].item.id == everything[3].item.id


def test_counts_stop_after_the_cap(seeded: tuple[QueueStore, dict[int, int]]) -> None:
    queues, _ = seeded
    statuses = (ItemStatus.OPEN, ItemStatus.PLANNED, ItemStatus.SNOOZED)
    assert queues.counts_upto(["C1", "C2", "C3"], ItemKind.FEEDBACK, statuses, 100) == {
        ItemStatus.OPEN: 40,
        ItemStatus.PLANNED: 1,
        ItemStatus.SNOOZED: 0,
    }
    capped = queues.counts_upto(["C1", "C2", "C3"], ItemKind.FEEDBACK, statuses, 9)
    assert capped[ItemStatus.OPEN] == 10  # "more than 9"
    assert queues.counts_upto([], ItemKind.FEEDBACK, statuses, 9) == {}


def test_what_one_person_raised_newest_first_of_either_kind(db: Database) -> None:
    items, queues = ItemStore(db, WORKSPACE), QueueStore(db, WORKSPACE)
    mine = [
        add(items, n, reporter_id="U2", kind=(ItemKind.FEEDBACK, ItemKind.BLOCKER)[n % 2])
        for n in range(9)
    ]
    add(items, 50, reporter_id="U3")
    other_workspace = ItemStore(db, "TOTHER")
    add(other_workspace, 1, reporter_id="U2")
    # Item n is n // 2 minutes old: newest first, and of two at one time, the later filed.
    expected = [mine[n] for n in (1, 0, 3, 2, 5, 4, 7, 6, 8)]
    for size in (1, 2, 4, 100):
        assert walk(lambda s, a: queues.raised("U2", s, a), size) == expected


def test_the_calendar_reads_are_pages(db: Database) -> None:
    planning, items = PlanningStore(db, WORKSPACE), ItemStore(db, WORKSPACE)
    for n, (team, days) in enumerate([("C1", 3), ("C1", 9), ("C2", 1), ("C1", 20), ("C9", 2)]):
        planning.add_milestone(
            Milestone(
                team_channel_id=team,
                name=f"m{n}",
                name_key=f"m{n}",
                due_date=TODAY + timedelta(days=days),
                created_by="U1",
                created_at=NOW,
                scheduled_at=NOW,
            )
        )
    at_risk = planning.milestone("C1", "m1")
    assert at_risk is not None
    add(items, 1, kind=ItemKind.BLOCKER, milestone_id=at_risk.id)
    last_day = TODAY + timedelta(days=14)
    shown, total = planning.due_milestones({"C1": last_day, "C2": last_day}, 2)
    assert [(t.milestone.name, t.open_blockers) for t in shown] == [("m1", 1), ("m2", 0)]
    assert total == 3
    assert planning.due_milestones({}, 5) == ([], 0)

    def deadline(team: str, due: date, who: str) -> None:
        planning.add_deadline(
            Deadline(
                team_channel_id=team,
                task="t",
                due_date=due,
                assignee_id=who,
                created_by="U1",
                created_at=NOW,
                scheduled_at=NOW,
            )
        )

    for days, team, who in [(-3, "C1", "U1"), (-1, "C2", "U2"), (-5, "C9", "U1"), (2, "C1", "U1")]:
        deadline(team, TODAY + timedelta(days=days), who)
    overdue, total = planning.overdue_in(["C1", "C2"], NOW, zone, 1)
    assert [d.due_date for d in overdue] == [TODAY - timedelta(days=3)] and total == 2
    mine, total = planning.deadlines_of("U1", 5)
    assert [d.due_date for d in mine] == [TODAY + timedelta(days=d) for d in (-5, -3, 2)]
    assert total == 3


def test_the_calendar_reads_go_by_each_teams_and_each_assignees_own_date(db: Database) -> None:
    planning = PlanningStore(db, WORKSPACE)
    for team, name, due in [
        ("CNZ", "nz 15 Dec", date(2026, 12, 15)),
        ("CNZ", "nz 16 Dec", date(2026, 12, 16)),
        ("CLA", "la 14 Dec", date(2026, 12, 14)),
        ("CLA", "la 15 Dec", date(2026, 12, 15)),
        ("CLA", "la late", date(2026, 11, 2)),
    ]:
        planning.add_milestone(
            Milestone(
                team_channel_id=team,
                name=name,
                name_key=name,
                due_date=due,
                created_by="U1",
                created_at=NOW,
                scheduled_at=NOW,
            )
        )
    # At 12:00 UTC on Mon 30 Nov: Tue 1 Dec in Auckland, still Mon 30 Nov in Los Angeles; each
    # team looks 14 days ahead of its own date.
    last_days = {"CNZ": date(2026, 12, 15), "CLA": date(2026, 12, 14)}
    shown, total = planning.due_milestones(last_days, 5)
    assert [t.milestone.name for t in shown] == ["la late", "la 14 Dec", "nz 15 Dec"]
    assert total == 3
    shown, total = planning.due_milestones(last_days, 2)
    assert [t.milestone.name for t in shown] == ["la late", "la 14 Dec"] and total == 3

    for task, team, due, tz in [
        ("long ago", "C1", date(2026, 11, 20), "America/Los_Angeles"),
        ("auckland 30 Nov", "C1", date(2026, 11, 30), "Pacific/Auckland"),
        ("los angeles 30 Nov", "C2", date(2026, 11, 30), "America/Los_Angeles"),
        ("utc 30 Nov", "C2", date(2026, 11, 30), "UTC"),
        ("auckland 1 Dec", "C1", date(2026, 12, 1), "Pacific/Auckland"),
        ("elsewhere", "C9", date(2026, 11, 20), "UTC"),
    ]:
        planning.add_deadline(
            Deadline(
                team_channel_id=team,
                task=task,
                due_date=due,
                assignee_id="U1",
                assignee_tz=tz,
                created_by="U1",
                created_at=NOW,
                scheduled_at=NOW,
            )
        )

    def overdue(at: datetime, limit: int = 5) -> tuple[list[str], int]:
        found, total = planning.overdue_in(["C1", "C2"], at, zone, limit)
        return [d.task for d in found], total

    # 12:00 UTC on Mon 30 Nov: Tue 1 Dec 01:00 in Auckland, Mon 30 Nov 04:00 in Los Angeles.
    assert overdue(datetime(2026, 11, 30, 12, 0, tzinfo=UTC)) == (
        ["long ago", "auckland 30 Nov"],
        2,
    )
    # 03:00 UTC on Tue 1 Dec: Tue 1 Dec 16:00 in Auckland, Mon 30 Nov 19:00 in Los Angeles.
    tuesday = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
    assert overdue(tuesday) == (["long ago", "auckland 30 Nov", "utc 30 Nov"], 3)
    assert overdue(tuesday, 2) == (["long ago", "auckland 30 Nov"], 3)
    # 08:00 UTC on Tue 1 Dec: 00:00 on Tue 1 Dec in Los Angeles too.
    assert overdue(datetime(2026, 12, 1, 8, 0, tzinfo=UTC))[1] == 4
    # Due Fri 20 Nov in Los Angeles: overdue from midnight there, 08:00 UTC.
    assert overdue(datetime(2026, 11, 21, 7, 59, tzinfo=UTC)) == ([], 0)
    assert overdue(datetime(2026, 11, 21, 8, 0, tzinfo=UTC)) == (["long ago"], 1)
    assert planning.overdue_in([], tuesday, zone, 5) == ([], 0)

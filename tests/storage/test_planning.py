"""Milestones, deadlines and the digest queries (SQLite and PostgreSQL)."""

from datetime import UTC, date, datetime, timedelta

from storage.db import Database
from storage.digest import DigestStore, FeedbackCounts
from storage.items import ItemStore
from storage.models import ItemKind, ItemStatus, Milestone
from storage.planning import PlanningStore
from tests.conftest import WORKSPACE
from tests.storage.test_items import new_item

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def _milestone(planning: PlanningStore, name: str, due: date, team: str = "C1") -> Milestone:
    milestone = Milestone(
        team_channel_id=team,
        name=name,
        name_key=name.lower(),
        due_date=due,
        created_by="U1",
        created_at=NOW,
        scheduled_at=NOW,
    )
    assert planning.add_milestone(milestone)
    return milestone


def test_milestone_names_are_unique_per_team_and_blockers_put_them_at_risk(db: Database) -> None:
    planning, items = PlanningStore(db, WORKSPACE), ItemStore(db, WORKSPACE)
    beta = _milestone(planning, "Beta", date(2026, 12, 5))
    _milestone(planning, "GA", date(2026, 12, 20))
    _milestone(planning, "Beta", date(2026, 12, 5), team="C2")
    assert beta.id is not None
    assert not planning.add_milestone(
        Milestone(
            team_channel_id="C1",
            name="BETA",
            name_key="beta",
            due_date=date(2026, 12, 9),
            created_by="U1",
            created_at=NOW,
            scheduled_at=NOW,
        )
    )
    linked = new_item("keys", kind=ItemKind.BLOCKER)
    linked.milestone_id = beta.id
    blocker, _ = items.file(linked)
    assert blocker.id is not None

    tracked = planning.tracked("C1")
    assert [(t.milestone.name, t.at_risk) for t in tracked] == [("Beta", True), ("GA", False)]
    items.transition(blocker.id, [ItemStatus.OPEN], ItemStatus.RESOLVED, "U2", NOW)
    assert [t.at_risk for t in planning.tracked("C1")] == [False, False]
    assert planning.close(Milestone, beta.id, "U2", NOW)
    assert not planning.close(Milestone, beta.id, "U2", NOW)
    assert [t.milestone.name for t in planning.tracked("C1")] == ["GA"]


def test_product_digest_counts_and_orders(db: Database) -> None:
    items = ItemStore(db, WORKSPACE)
    week_ago = NOW - timedelta(days=7)
    old, _ = items.file(new_item("old", at=NOW - timedelta(days=30)))
    for n in range(8):
        items.file(new_item(f"new {n}", at=NOW - timedelta(days=1, minutes=n)))
    popular, _ = items.file(new_item("popular", at=NOW - timedelta(hours=2)))
    assert popular.id is not None and old.id is not None
    for voter in ("U7", "U8", "U9"):
        items.add_vote(popular.id, voter, NOW)
    items.transition(old.id, [ItemStatus.OPEN], ItemStatus.PLANNED, "U2", NOW)

    digest = DigestStore(db, WORKSPACE).product("C1", week_ago, NOW, limit=3)

    assert digest.counts == FeedbackCounts({ItemStatus.OPEN: 9}, open=9, voted=1)
    assert [(q.item.text, q.votes) for q in digest.most_voted] == [("popular", 3)]
    # Each list skips what the lists before it show: an item is listed once.
    assert [q.item.text for q in digest.waiting] == ["new 7", "new 6", "new 5"]
    assert [q.item.text for q in digest.filed.shown] == ["new 0", "new 1", "new 2"]
    assert digest.filed.total == 5  # the 9 filed, less the 4 listed above

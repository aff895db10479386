"""Handoffs: one pending per item, stored with its cards, decided once (SQLite and PostgreSQL)."""

from datetime import UTC, date, datetime

from storage.db import Database
from storage.handoffs import Cards, HandoffStore
from storage.items import ItemStore
from storage.models import (
    Handoff,
    HandoffKind,
    HandoffStatus,
    ItemStatus,
    Milestone,
    SendKind,
    SendStatus,
)
from storage.outbox import OutboxStore, Send
from storage.planning import PlanningStore
from tests.conftest import WORKSPACE
from tests.storage.test_items import new_item

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
WAITING = (ItemStatus.OPEN, ItemStatus.NEEDS_INFO, ItemStatus.SNOOZED)


def _item(db: Database, workspace: str = WORKSPACE) -> int:
    item, _ = ItemStore(db, workspace).file(new_item("Export to CSV"))
    assert item.id is not None
    return item.id


def _milestone(db: Database, name: str, team: str = "C1", workspace: str = WORKSPACE) -> int:
    milestone = Milestone(
        team_channel_id=team,
        name=name,
        name_key=name.lower(),
        due_date=date(2027, 2, 15),
        created_by="U1",
        created_at=NOW,
        scheduled_at=NOW,
    )
    assert PlanningStore(db, workspace).add_milestone(milestone)
    assert milestone.id is not None
    return milestone.id


def _asked(item_id: int, **fields: object) -> Handoff:
    values: dict[str, object] = {
        "team_channel_id": "C1",
        "item_id": item_id,
        "kind": HandoffKind.NEW_MILESTONE,
        "name": "Public beta",
        "requested_by": "UPM",
        "requested_at": NOW,
    }
    return Handoff.model_validate(values | fields)


def _cards(*recipients: str) -> Cards:
    def cards(handoff: Handoff) -> list[tuple[Send, str]]:
        return [
            (
                Send(f"handoff:{handoff.id}:{r}", SendKind.NOTICE, handoff.item_id, {"text": r}),
                r,
            )
            for r in recipients
        ]

    return cards


def test_a_handoff_is_stored_with_its_cards_queued_and_only_one_waits_per_item(
    db: Database,
) -> None:
    store, sends = HandoffStore(db, WORKSPACE), OutboxStore(db, WORKSPACE)
    item_id = _item(db)

    stored = store.request(_asked(item_id), WAITING, _cards("UBOB", "UDAN"), NOW)

    assert stored is not None and stored.id is not None
    assert store.pending(item_id) == stored
    queued = [sends.get(f"handoff:{stored.id}:{r}") for r in ("UBOB", "UDAN")]
    assert [(s.status, s.destination, s.message) for s in queued if s is not None] == [
        (SendStatus.QUEUED, "UBOB", {"text": "UBOB"}),
        (SendStatus.QUEUED, "UDAN", {"text": "UDAN"}),
    ]
    # The same submission again, or a second proposal: nothing more is stored or queued.
    again = store.request(_asked(item_id, name="GA"), WAITING, _cards("UBOB"), NOW)
    assert again is None
    assert store.pending(item_id) == stored


def test_no_handoff_for_an_item_that_left_the_queue_or_another_workspaces(db: Database) -> None:
    store = HandoffStore(db, WORKSPACE)
    item_id = _item(db)
    ItemStore(db, WORKSPACE).transition(item_id, WAITING, ItemStatus.DECLINED, "UPM", NOW)
    theirs = _item(db, "T0002")

    assert store.request(_asked(item_id), WAITING, _cards("UBOB"), NOW) is None
    assert store.request(_asked(theirs), WAITING, _cards("UBOB"), NOW) is None
    assert store.pending(item_id) is None
    assert OutboxStore(db, WORKSPACE).get("handoff:1:UBOB") is None


def test_a_decision_is_made_once_and_frees_the_item_for_another(db: Database) -> None:
    store = HandoffStore(db, WORKSPACE)
    item_id = _item(db)
    asked = store.request(_asked(item_id), WAITING, _cards(), NOW)
    assert asked is not None and asked.id is not None

    assert store.decide(asked.id, HandoffStatus.DECLINED, "UBOB", NOW, reason="No room")
    assert not store.decide(asked.id, HandoffStatus.ACCEPTED, "UDAN", NOW)  # the second PM
    decided = store.get(asked.id)
    assert decided is not None
    assert (decided.status, decided.decided_by, decided.reason) == (
        HandoffStatus.DECLINED,
        "UBOB",
        "No room",
    )
    assert store.pending(item_id) is None
    assert HandoffStore(db, "T0002").get(asked.id) is None  # another workspace's id: nothing
    assert store.request(_asked(item_id, name="GA"), WAITING, _cards(), NOW) is not None


def test_a_waiting_handoff_is_withdrawn_once_and_only_a_waiting_one(db: Database) -> None:
    store = HandoffStore(db, WORKSPACE)
    item_id, decided_item = _item(db), _item(db)
    asked = store.request(_asked(item_id), WAITING, _cards(), NOW)
    decided = store.request(_asked(decided_item), WAITING, _cards(), NOW)
    assert asked is not None and decided is not None and decided.id is not None
    store.decide(decided.id, HandoffStatus.ACCEPTED, "UBOB", NOW)

    assert HandoffStore(db, "T0002").withdraw(item_id, "UPM", NOW, "declined") is None
    withdrawn = store.withdraw(item_id, "UPM", NOW, "declined")

    assert withdrawn is not None and withdrawn.id is not None and withdrawn.id == asked.id
    assert (withdrawn.status, withdrawn.decided_by, withdrawn.reason) == (
        HandoffStatus.WITHDRAWN,
        "UPM",
        "declined",
    )
    assert store.pending(item_id) is None
    assert store.withdraw(item_id, "UPM", NOW, "declined") is None  # once
    assert store.withdraw(decided_item, "UPM", NOW, "declined") is None  # decided: kept
    kept = store.get(decided.id)
    assert kept is not None and kept.status is HandoffStatus.ACCEPTED
    assert not store.decide(withdrawn.id, HandoffStatus.ACCEPTED, "UBOB", NOW)  # the answer lost


def test_a_teams_waiting_handoffs_oldest_first(db: Database) -> None:
    store = HandoffStore(db, WORKSPACE)
    later = store.request(
        _asked(_item(db), requested_at=NOW.replace(hour=10)), WAITING, _cards(), NOW
    )
    first = store.request(_asked(_item(db)), WAITING, _cards(), NOW)
    decided = store.request(_asked(_item(db)), WAITING, _cards(), NOW)
    store.request(_asked(_item(db), team_channel_id="C2"), WAITING, _cards(), NOW)
    assert later is not None and first is not None and decided is not None
    assert decided.id is not None
    store.decide(decided.id, HandoffStatus.DECLINED, "UBOB", NOW)

    assert [h.id for h in store.pending_in("C1")] == [first.id, later.id]
    assert HandoffStore(db, "T0002").pending_in("C1") == []


def test_accepted_creep_is_counted_per_milestone_of_one_team(db: Database) -> None:
    store = HandoffStore(db, WORKSPACE)
    beta, ga = _milestone(db, "Beta"), _milestone(db, "GA")
    other_team = _milestone(db, "Beta", team="C2")
    creep = {"kind": HandoffKind.SCOPE_CREEP, "name": None}
    for milestone, team, status in [
        (beta, "C1", HandoffStatus.ACCEPTED),
        (beta, "C1", HandoffStatus.ACCEPTED),
        (beta, "C1", HandoffStatus.DEFERRED),
        (beta, "C1", HandoffStatus.WITHDRAWN),
        (ga, "C1", HandoffStatus.ACCEPTED),
        (other_team, "C2", HandoffStatus.ACCEPTED),
    ]:
        asked = _asked(_item(db), milestone_id=milestone, team_channel_id=team, **creep)
        stored = store.request(asked, WAITING, _cards(), NOW)
        assert stored is not None and stored.id is not None
        store.decide(stored.id, status, "UBOB", NOW)
    proposed = store.request(_asked(_item(db), milestone_id=beta), WAITING, _cards(), NOW)
    assert proposed is not None and proposed.id is not None
    store.decide(proposed.id, HandoffStatus.ACCEPTED, "UBOB", NOW)  # a new milestone: not creep

    assert store.accepted_creep("C1") == {beta: 2, ga: 1}
    assert store.accepted_creep("C2") == {other_team: 1}
    assert HandoffStore(db, "T0002").accepted_creep("C1") == {}


def test_the_copies_of_a_card_are_the_posted_sends_of_that_handoff_only(db: Database) -> None:
    store, sends = HandoffStore(db, WORKSPACE), OutboxStore(db, WORKSPACE)
    handoffs = []
    for _ in range(12):  # ids 1 and 10-12 share a prefix: `handoff:1:` must not match them
        stored = store.request(_asked(_item(db)), WAITING, _cards("UBOB", "UDAN"), NOW)
        assert stored is not None and stored.id is not None
        handoffs.append(stored)
        for recipient in ("UBOB", "UDAN") if handoffs[1:] else ("UBOB",):  # 1st: one not posted
            key = f"handoff:{stored.id}:{recipient}"
            sends.record_sent([key], "D1", f"{stored.id}.{recipient}", NOW)
    first = handoffs[0]

    assert [c.message_ts for c in store.copies(first)] == [f"{first.id}.UBOB"]
    assert store.milestone(_milestone(db, "Beta")) is not None
    assert HandoffStore(db, "T0002").copies(first) == []


def test_freezing_a_milestone_sets_and_clears_its_day(db: Database) -> None:
    planning = PlanningStore(db, WORKSPACE)
    beta = _milestone(db, "Beta")

    assert planning.freeze(beta, date(2027, 2, 1))
    frozen = HandoffStore(db, WORKSPACE).milestone(beta)
    assert frozen is not None and frozen.freeze_date == date(2027, 2, 1)
    assert planning.freeze(beta, None)
    assert planning.milestone("C1", "beta").freeze_date is None  # type: ignore[union-attr]
    assert not PlanningStore(db, "T0002").freeze(beta, date(2027, 2, 1))
    assert planning.close(Milestone, beta, "U1", NOW)
    assert not planning.freeze(beta, date(2027, 2, 1))  # done: nothing to freeze

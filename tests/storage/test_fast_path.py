"""The ack's fast path: filing stores the item with its request and reads where its cards go
(on PostgreSQL in one statement, outside any explicit transaction); routing, outbox claims and
sent records in one statement each; and the work acks wait for on a pool of its own (SQLite and
PostgreSQL)."""

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, event, func
from sqlmodel import select

from sandbox.wire import Wire, watching
from storage.db import Database, acking, make_engine
from storage.items import ItemStore
from storage.models import Item, ItemKind, ProcessedEvent, Role, SendKind, SendStatus
from storage.outbox import OutboxStore, Send
from storage.teams import TeamStore
from tests.conftest import WORKSPACE
from tests.storage.test_items import NOW, new_item

OTHER_WORKSPACE = "T0002"


def team(db: Database) -> TeamStore:
    """C1: product managers U2 (since an hour after NOW, but assigned first) and U1 (since
    NOW); project manager U3; product cards go to the queue channel CQ. Another workspace's C1
    has a product manager of its own (U9)."""
    teams = TeamStore(db, WORKSPACE)
    teams.assign("C1", "U2", Role.PRODUCT, "U2", NOW + timedelta(hours=1))
    teams.assign("C1", "U1", Role.PRODUCT, "U1", NOW)
    teams.assign("C1", "U3", Role.PROJECT, "U1", NOW)
    settings = teams.settings("C1")
    settings.product_queue_channel = "CQ"
    teams.save_settings(settings)
    TeamStore(db, OTHER_WORKSPACE).assign("C1", "U9", Role.PRODUCT, "U9", NOW - timedelta(days=1))
    return teams


def requested(text: str = "x", request_id: str | None = None, **fields: Any) -> Item:
    """An item as a slash command files it: `request_id` is the command's trigger."""
    item = new_item(text, **fields)
    item.request_id = request_id
    return item


def count(db: Database, table: Any) -> int:
    with db.session() as session:
        return session.exec(select(func.count()).select_from(table)).one()


def test_filing_returns_the_new_item_and_where_its_cards_go(db: Database) -> None:
    team(db)
    items = ItemStore(db, WORKSPACE)

    feedback = items.file_request(requested("SSO for Acme", "trigger-1"))
    assert feedback.created and not feedback.replayed
    assert feedback.item.id is not None
    stored = items.get(feedback.item.id)
    assert stored is not None and stored.text == "SSO for Acme"
    assert (stored.workspace_id, stored.request_id) == (WORKSPACE, "trigger-1")
    # Holders oldest assignment first (not in insertion order), and the product queue.
    assert (feedback.routing.holders, feedback.routing.queue_channel) == (["U1", "U2"], "CQ")
    assert feedback.routing.recipients == ["CQ"]

    blocker = items.file_request(requested("Staging down", "trigger-2", kind=ItemKind.BLOCKER))
    assert blocker.created and not blocker.replayed
    assert (blocker.routing.holders, blocker.routing.queue_channel) == (["U3"], None)
    assert blocker.item.id not in (None, feedback.item.id)


def test_a_team_with_nobody_and_no_settings_routes_nowhere(db: Database) -> None:
    filing = ItemStore(db, WORKSPACE).file_request(requested("lonely", "trigger-1"))
    assert filing.created and filing.item.id is not None
    assert (filing.routing.holders, filing.routing.queue_channel) == ([], None)


def test_a_request_id_reused_for_another_team_posts_nothing_for_the_first_item(
    db: Database,
) -> None:
    """Slack never sends one trigger id for two commands: a request that does (forged) is
    told where that item is, as a duplicate, and its channel's owners get no card of it."""
    team(db)
    items = ItemStore(db, WORKSPACE)
    first = items.file_request(requested("SSO for Acme", "trigger-1"))
    other_team = requested("else", "trigger-1")
    other_team.team_channel_id = "C2"
    forged = items.file_request(other_team)

    assert forged.replayed and not forged.created
    assert forged.item.id == first.item.id and forged.item.team_channel_id == "C1"
    assert count(db, Item) == 1


def test_a_replayed_request_returns_the_item_it_filed_and_files_nothing(db: Database) -> None:
    team(db)
    items = ItemStore(db, WORKSPACE)
    first = items.file_request(requested("SSO for Acme", "trigger-1"))
    assert first.created and not first.replayed and first.item.id is not None

    # The same request again (a replay, or a retry after its answer was lost), and even with
    # other text: the item the request filed, as created (the same confirmation, the same
    # cards), and no second one.
    for again in [requested("SSO for Acme", "trigger-1"), requested("else", "trigger-1")]:
        replay = items.file_request(again)
        assert replay.created and replay.replayed
        assert replay.item.id == first.item.id
        assert (replay.item.text, replay.item.request_id) == ("SSO for Acme", "trigger-1")
        assert (replay.routing.holders, replay.routing.queue_channel) == (["U1", "U2"], "CQ")

    assert count(db, Item) == 1
    assert count(db, ProcessedEvent) == 0  # the request is on its item, not an event
    assert [q.item.text for q in items.open_queue("C1", ItemKind.FEEDBACK)] == ["SSO for Acme"]
    # The same request id in another workspace is a request of its own: it files an item there.
    other = ItemStore(db, OTHER_WORKSPACE).file_request(requested("theirs", "trigger-1"))
    assert other.created and not other.replayed
    assert other.item.id not in (None, first.item.id)
    assert other.item.workspace_id == OTHER_WORKSPACE
    assert other.routing.holders == ["U9"] and other.routing.queue_channel is None
    assert count(db, Item) == 2
    assert [q.item.text for q in items.open_queue("C1", ItemKind.FEEDBACK)] == ["SSO for Acme"]
    theirs = ItemStore(db, OTHER_WORKSPACE).open_queue("C1", ItemKind.FEEDBACK)
    assert [q.item.text for q in theirs] == ["theirs"]


def test_a_second_filing_of_the_same_source_message_returns_the_first_item(db: Database) -> None:
    team(db)
    items = ItemStore(db, WORKSPACE)
    first = items.file_request(requested("from a thread", "t-1", source_ts="1.5", reporter="U4"))
    assert first.created and not first.replayed and first.item.id is not None

    again = items.file_request(requested("edited text", "t-2", source_ts="1.5", reporter="U5"))
    assert not again.created and not again.replayed
    assert again.item.id == first.item.id
    assert (again.item.text, again.item.reporter_id) == ("from a thread", "U4")
    assert (again.routing.holders, again.routing.queue_channel) == (["U1", "U2"], "CQ")

    without_request = items.file_request(requested(source_ts="1.5"))
    assert not without_request.created and not without_request.replayed
    assert without_request.item.id == first.item.id

    # Another kind from the same message is an item of its own.
    blocker = items.file_request(requested(kind=ItemKind.BLOCKER, source_ts="1.5"))
    assert blocker.created and blocker.item.id != first.item.id

    assert count(db, Item) == 2
    # The first item keeps its own request; the duplicate's was not stored anywhere.
    stored = items.get(first.item.id)
    assert stored is not None and stored.request_id == "t-1"
    assert count(db, ProcessedEvent) == 0


# PostgreSQL: statements and round trips ----------------------------------------------------


@pytest.fixture
def postgres(db: Database) -> Database:
    if db.dialect != "postgresql":
        pytest.skip("round trips are counted on PostgreSQL")
    with db.reading() as connection:  # the first connect's own queries are not the test's
        connection.exec_driver_sql("SELECT 1")
    return db


def one_round_trip(wire: Wire) -> None:
    assert len(wire.sql()) == 1, wire.sql()
    assert wire.autocommit() == [True]
    assert wire.round_trips() == 1, wire.traces
    assert wire.queries() == [], "no BEGIN, COMMIT or ROLLBACK"


def test_filing_with_a_request_id_is_one_statement_without_a_transaction(
    postgres: Database,
) -> None:
    team(postgres)
    items = ItemStore(postgres, WORKSPACE)
    with watching(postgres.engines) as wire:
        filing = items.file_request(requested("SSO for Acme", "trigger-1"))
    assert filing.created and not filing.replayed
    assert filing.routing.holders == ["U1", "U2"]
    one_round_trip(wire)

    # A replay: the filing statement inserts nothing, then one read finds the request's item;
    # each statement commits itself.
    with watching(postgres.engines) as wire:
        replay = items.file_request(requested("SSO for Acme", "trigger-1"))
    assert replay.replayed and replay.item.id == filing.item.id
    assert len(wire.sql()) == 2, wire.sql()
    assert wire.autocommit() == [True, True]
    assert wire.round_trips() == 2, wire.traces
    assert wire.queries() == [], "no BEGIN, COMMIT or ROLLBACK"
    assert count(postgres, Item) == 1


def test_routing_is_one_statement(postgres: Database) -> None:
    teams = team(postgres)
    with watching(postgres.engines) as wire:
        routing = teams.routing("C1", Role.PRODUCT)
    assert (routing.holders, routing.queue_channel) == (["U1", "U2"], "CQ")
    one_round_trip(wire)


def test_claiming_new_keys_and_recording_them_sent_are_one_statement_each(
    postgres: Database,
) -> None:
    sends = OutboxStore(postgres, WORKSPACE)
    keys = [f"reminder:{n}" for n in range(3)]
    with watching(postgres.engines) as wire:
        won = sends.claim([Send(key, SendKind.REMINDER) for key in keys], "C1", NOW, NOW, "t1")
    assert won == {key: [] for key in keys}
    one_round_trip(wire)

    with watching(postgres.engines) as wire:
        sends.record_sent(keys, "C1", "1700000001.000100", NOW)
    one_round_trip(wire)
    for key in keys:
        sent = sends.get(key)
        assert sent is not None and sent.status is SendStatus.SENT
        assert (sent.channel_id, sent.message_ts) == ("C1", "1700000001.000100")


# Pools: acks on their own --------------------------------------------------------------------


@pytest.fixture
def ack_engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


def test_work_acks_wait_for_runs_on_the_ack_engine(engine: Engine, ack_engine: Engine) -> None:
    db = Database(engine, ack_engine)
    assert db.engine is engine
    assert db.engines == [engine, ack_engine]
    with acking():
        assert db.engine is ack_engine
        with acking(False):
            assert db.engine is engine
        assert db.engine is ack_engine
    assert db.engine is engine

    checkouts: list[Engine] = []
    for watched in (engine, ack_engine):
        event.listen(watched.pool, "checkout", lambda *_, e=watched: checkouts.append(e))
    items = ItemStore(db, WORKSPACE)
    with acking():
        filing = items.file_request(requested("acked", "trigger-1"))
        assert filing.created
        assert items.file_request(requested("acked", "trigger-1")).replayed
        TeamStore(db, WORKSPACE).routing("C1", Role.PRODUCT)
        with db.session() as session:
            session.exec(select(Item)).all()
    assert checkouts and set(checkouts) == {ack_engine}

    checkouts.clear()
    assert items.get(filing.item.id or 0) is not None
    OutboxStore(db, WORKSPACE).claim([Send("k", SendKind.REMINDER)], "C1", NOW, NOW, "t1")
    assert checkouts and set(checkouts) == {engine}


def test_without_an_ack_engine_acks_share_the_one_engine(engine: Engine) -> None:
    db = Database(engine)
    assert db.engines == [engine]
    with acking():
        assert db.engine is engine
    assert db.engine is engine

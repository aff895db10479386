"""The schema: migrations build exactly what the models describe, and upgrades keep the data."""

from datetime import UTC, datetime

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import SQLModel

from storage.db import Database, UnassignedRows, alembic_config, make_engine, migrate
from storage.items import ItemStore
from storage.models import ItemKind, Role, SendKind, SendStatus
from storage.outbox import OutboxStore
from storage.teams import TeamStore

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def test_migrations_are_idempotent_and_create_the_schema(engine: Engine) -> None:
    migrate(engine)
    tables = set(inspect(engine).get_table_names())
    assert {
        "item",
        "item_vote",
        "outbox",
        "role_assignment",
        "team_settings",
        "milestone",
        "deadline",
        "processed_event",
        "workspace",
        "alembic_version",
    } <= tables
    assert not {"delivery", "scheduled_send"} & tables


def test_the_migrations_build_exactly_the_schema_the_models_describe(engine: Engine) -> None:
    migrate(engine)
    with engine.connect() as connection:
        drift = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    assert drift == []  # a model changed without a migration (or the other way round)


def test_upgrading_moves_cards_and_scheduled_sends_into_the_outbox(tmp_path: object) -> None:
    """Rows written by the version before the outbox keep their meaning: a sent card is still
    updated in place, a failed one is still retried, a sent nudge is never sent again."""
    engine = make_engine(f"sqlite:///{tmp_path}/old.db")
    command.upgrade(alembic_config(engine), "0003")
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO item (id, kind, team_channel_id, text, reporter_id, status, "
                "created_at, updated_at) VALUES (1, 'feedback', 'C1', 'x', 'U1', 'open', :at, :at)"
            ),
            {"at": NOW},
        )
        connection.execute(
            text(
                "INSERT INTO delivery (item_id, recipient, channel_id, message_ts, created_at, "
                "attempts, retry_at, post_tag) VALUES "
                "(1, 'UPM', 'DPM', '1.1', :at, 1, NULL, 't1'), "
                "(1, 'CQ', NULL, NULL, :at, 2, :at, 't2')"
            ),
            {"at": NOW},
        )
        connection.execute(
            text(
                "INSERT INTO scheduled_send (key, destination, status, attempts, claimed_at, "
                "message_ts, sent_at, post_tag, earlier_tag) VALUES "
                "('milestone:1:2026-11-03:2026-11-02', 'C1', 'sent', 1, :at, '2.2', :at, 't3', ''),"
                "('digest:C1:2026-W45:parent', 'C1', 'failed', 1, :at, NULL, NULL, 't4', '')"
            ),
            {"at": NOW},
        )
    migrate(engine, "T0001")

    sends = OutboxStore(Database(engine), "T0001")
    [card] = sends.posted_cards(1)
    assert (card.key, card.channel_id, card.message_ts) == ("card:1:UPM", "DPM", "1.1")
    failed = sends.get("card:1:CQ")
    assert failed is not None and failed.status is SendStatus.FAILED
    assert (failed.post_tag, failed.earlier_tags) == ("t2", "t2")  # t2 may be in Slack
    assert sends.settled(["milestone:1:2026-11-03:2026-11-02"]) == {
        "milestone:1:2026-11-03:2026-11-02"
    }
    digest = sends.get("digest:C1:2026-W45:parent")
    assert digest is not None and digest.kind is SendKind.DIGEST
    engine.dispose()


def _single_workspace_database(path: str) -> Engine:
    """A database as single-token Rolecall left it before rows carried their workspace."""
    engine = make_engine(f"sqlite:///{path}/single.db")
    command.upgrade(alembic_config(engine), "0005")
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO item (id, kind, team_channel_id, text, reporter_id, status, "
                "source_channel_id, source_ts, created_at, updated_at) "
                "VALUES (1, 'feedback', 'C1', 'x', 'U1', 'open', 'C1', '1.1', :at, :at)"
            ),
            {"at": NOW},
        )
        connection.execute(
            text(
                "INSERT INTO role_assignment (channel_id, user_id, role, assigned_by, "
                "assigned_at) VALUES ('C1', 'UPM', 'product', 'UPM', :at)"
            ),
            {"at": NOW},
        )
    return engine


def test_upgrading_single_workspace_data_assigns_it_to_the_tokens_workspace(
    tmp_path: object,
) -> None:
    engine = _single_workspace_database(str(tmp_path))
    migrate(engine, "T0001")

    db = Database(engine)
    mine, theirs = ItemStore(db, "T0001"), ItemStore(db, "T0002")
    assert [q.item.text for q in mine.open_queue("C1", ItemKind.FEEDBACK)] == ["x"]
    assert theirs.open_queue("C1", ItemKind.FEEDBACK) == []
    assert TeamStore(db, "T0001").holders("C1", Role.PRODUCT) == ["UPM"]
    assert TeamStore(db, "T0002").holders("C1", Role.PRODUCT) == []
    engine.dispose()


def test_upgrading_data_without_knowing_its_workspace_changes_nothing(tmp_path: object) -> None:
    """No guess, no wipe: the operator is told to start once with the bot token."""
    engine = _single_workspace_database(str(tmp_path))
    with pytest.raises(UnassignedRows, match="SLACK_BOT_TOKEN"):
        migrate(engine)
    with engine.connect() as connection:
        assert (
            connection.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0005"
        )
        assert connection.execute(text("SELECT count(*) FROM item")).scalar() == 1
    engine.dispose()


def test_an_items_request_is_unique_in_its_workspace(engine: Engine) -> None:
    """Migration 0009: `item.request_id` (a slash command's trigger) with a unique index over
    the workspace and the request. Items without a request (NULL) are never in each other's
    way, and another workspace's request id is its own."""
    migrate(engine)
    columns = {c["name"]: c for c in inspect(engine).get_columns("item")}
    assert columns["request_id"]["nullable"]
    [index] = [i for i in inspect(engine).get_indexes("item") if i["name"] == "ux_item_request"]
    assert index["unique"] and index["column_names"] == ["workspace_id", "request_id"]

    insert = text(
        "INSERT INTO item (workspace_id, kind, team_channel_id, text, reporter_id, status, "
        "request_id, created_at, updated_at) "
        "VALUES (:workspace, 'feedback', 'C1', :text, 'U1', 'open', :request, :at, :at)"
    )

    def store(said: str, request: str | None, workspace: str = "T0001") -> None:
        with engine.begin() as connection:
            connection.execute(
                insert, {"workspace": workspace, "text": said, "request": request, "at": NOW}
            )

    store("first", "trigger-1")
    with pytest.raises(IntegrityError):
        store("second", "trigger-1")
    store("theirs", "trigger-1", workspace="T0002")
    store("another request", "trigger-2")
    store("no request", None)
    store("no request either", None)

    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT workspace_id, text, request_id FROM item ORDER BY id")
        ).all()
    assert [tuple(row) for row in rows] == [
        ("T0001", "first", "trigger-1"),
        ("T0002", "theirs", "trigger-1"),
        ("T0001", "another request", "trigger-2"),
        ("T0001", "no request", None),
        ("T0001", "no request either", None),
    ]


def test_the_votes_index_gains_the_id_and_its_downgrade_takes_it_back(tmp_path: object) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/votes.db")

    def votes_index() -> list[str | None]:
        [index] = [i for i in inspect(engine).get_indexes("item") if i["name"] == "ix_item_votes"]
        return index["column_names"][-2:]

    try:
        command.upgrade(alembic_config(engine), "0015")
        assert votes_index() == ["vote_count", "id"]
        command.downgrade(alembic_config(engine), "0014")
        assert votes_index() == ["status", "vote_count"]
    finally:
        engine.dispose()

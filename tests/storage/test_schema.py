"""The schema: migrations build exactly what the models describe, and upgrades keep the data."""

from datetime import UTC, datetime

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, text
from sqlmodel import SQLModel

from storage.db import Database, alembic_config, make_engine, migrate
from storage.models import SendKind, SendStatus
from storage.outbox import OutboxStore

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
    migrate(engine)

    sends = OutboxStore(Database(engine))
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

"""tenants: every row carries its workspace, and every unique key starts with it

Rows written in single-token mode belong to that token's workspace: Rolecall reads it from
`auth.test` at start and hands it to this migration (`workspace_id` in the Alembic config's
attributes). Without it, a database holding rows is not upgraded: nothing is guessed or wiped.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

from storage.db import UnassignedRows

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = (
    "role_assignment",
    "team_settings",
    "item",
    "item_vote",
    "processed_event",
    "milestone",
    "deadline",
    "outbox",
)
# Old unique keys (by their columns) and their replacements, which lead with the workspace.
UNIQUE = {
    "role_assignment": ("channel_id", "user_id", "role"),
    "item": ("kind", "source_channel_id", "source_ts"),
    "milestone": ("team_channel_id", "name_key"),
}
PRIMARY = {
    "team_settings": ("channel_id",),
    "processed_event": ("event_id",),
    "outbox": ("key",),
}
# Indexes replaced by ones that lead with the workspace: (table, old name, new name, columns).
INDEXES = (
    ("item", "ix_item_team_channel_id", None, ()),
    (
        "item",
        "ix_item_queue",
        "ix_item_queue",
        ("team_channel_id", "kind", "status", "created_at"),
    ),
    ("milestone", "ix_milestone_team_channel_id", None, ()),
    ("deadline", "ix_deadline_team_channel_id", "ix_deadline_team", ("team_channel_id",)),
    ("outbox", "ix_outbox_unsent", "ix_outbox_unsent", ("kind", "status")),
    ("outbox", "ix_outbox_message", "ix_outbox_message", ("channel_id", "message_ts")),
)
# SQLite's reflected keys are unnamed; these names let a batch operation drop them.
NAMING = {"uq": "uq_%(table_name)s_%(column_0_N_name)s", "pk": "pk_%(table_name)s"}


def _workspace_of_existing_rows() -> str:
    bind = op.get_bind()
    given = op.get_context().config.attributes.get("workspace_id")  # type: ignore[union-attr]
    if given:
        return str(given)
    for table in TABLES:
        if bind.execute(sa.text(f"SELECT 1 FROM {table} LIMIT 1")).first() is not None:
            raise UnassignedRows(
                "This database holds single-workspace data: start Rolecall once with "
                "SLACK_BOT_TOKEN set, so the data is assigned to that token's workspace."
            )
    return ""


def upgrade() -> None:
    workspace = _workspace_of_existing_rows()
    sqlite = op.get_bind().dialect.name == "sqlite"
    inspector = sa.inspect(op.get_bind())
    for table in TABLES:
        with op.batch_alter_table(
            table, recreate="always" if sqlite else "never", naming_convention=NAMING
        ) as batch:
            batch.add_column(
                sa.Column(
                    "workspace_id",
                    sqlmodel.sql.sqltypes.AutoString(length=32),
                    nullable=False,
                    server_default=workspace,
                )
            )
            for old_table, old, new, columns in INDEXES:
                if old_table == table:
                    batch.drop_index(old)
                    if new is not None:
                        batch.create_index(new, ["workspace_id", *columns], unique=False)
            if table in UNIQUE:
                name = _reflected_name(
                    inspector.get_unique_constraints(table), UNIQUE[table], sqlite, "uq", table
                )
                batch.drop_constraint(name, type_="unique")
                batch.create_unique_constraint(
                    f"uq_{table}_workspace", ["workspace_id", *UNIQUE[table]]
                )
            if table in PRIMARY:
                pk = f"pk_{table}" if sqlite else inspector.get_pk_constraint(table)["name"]
                batch.drop_constraint(pk, type_="primary")
                batch.create_primary_key(f"pk_{table}", ["workspace_id", *PRIMARY[table]])
        with op.batch_alter_table(table) as batch:
            batch.alter_column("workspace_id", server_default=None)

    with op.batch_alter_table("workspace") as batch:
        batch.alter_column(
            "team_id",
            new_column_name="workspace_id",
            existing_type=sa.String(length=32),
            existing_nullable=False,
        )
    with op.batch_alter_table("workspace") as batch:
        batch.add_column(
            sa.Column("team_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True)
        )
        batch.add_column(
            sa.Column("enterprise_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True)
        )
    op.execute("UPDATE workspace SET team_id = workspace_id")


def _reflected_name(
    found: list[dict[str, object]], columns: tuple[str, ...], sqlite: bool, kind: str, table: str
) -> str:
    """The name of the unique key on `columns`, as the database or the naming convention
    has it."""
    if sqlite:
        return f"{kind}_{table}_{'_'.join(columns)}"
    for constraint in found:
        if tuple(constraint["column_names"]) == columns:  # type: ignore[arg-type]
            return str(constraint["name"])
    raise RuntimeError(f"no unique key on {table}{columns}")


def downgrade() -> None:
    raise NotImplementedError("tenants cannot be merged back into one workspace")

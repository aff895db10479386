"""The installations Rolecall serves, whether each may be posted to, and removing one's data."""

from datetime import datetime

from sqlalchemy import Table, delete, func
from sqlmodel import SQLModel, col, select

from storage.db import Database
from storage.items import IS_OPEN
from storage.models import Item, ProcessedEvent, Workspace


def tenant_tables() -> list[Table]:
    """Every table whose rows belong to one workspace, children before the rows they
    reference (votes and sends name items, items milestones, milestones themes). Read from
    the models, so a table added later is purged without anyone listing it."""
    return [
        table
        for table in reversed(SQLModel.metadata.sorted_tables)
        if "workspace_id" in table.c and table.name != Workspace.__tablename__
    ]


class WorkspaceStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def get(self, workspace_id: str) -> Workspace | None:
        with self.db.session() as session:
            return session.get(Workspace, workspace_id)

    def installed(
        self, workspace_id: str, team_id: str | None, enterprise_id: str | None, now: datetime
    ) -> None:
        """Record an installation (new, or again after an uninstall): it may be posted to."""
        with self.db.writing() as session:
            row = session.get(Workspace, workspace_id) or Workspace(
                workspace_id=workspace_id, changed_at=now
            )
            row.team_id, row.enterprise_id = team_id, enterprise_id
            row.active, row.reason, row.changed_at = True, "installed", now
            session.add(row)
            session.commit()

    def known(
        self, workspace_id: str, team_id: str | None, enterprise_id: str | None, now: datetime
    ) -> None:
        """Record the workspace of a single bot token once; an uninstall recorded earlier
        stays in force."""
        with self.db.writing() as session:
            if session.get(Workspace, workspace_id) is None:
                session.add(
                    Workspace(
                        workspace_id=workspace_id,
                        team_id=team_id,
                        enterprise_id=enterprise_id,
                        reason="token",
                        changed_at=now,
                    )
                )
                session.commit()

    def set_active(self, workspace_id: str, active: bool, reason: str, now: datetime) -> None:
        with self.db.writing() as session:
            row = session.get(Workspace, workspace_id) or Workspace(
                workspace_id=workspace_id, changed_at=now
            )
            row.active, row.reason, row.changed_at = active, reason, now
            session.add(row)
            session.commit()

    def inactive(self) -> set[str]:
        with self.db.session() as session:
            query = select(Workspace.workspace_id).where(col(Workspace.active).is_(False))
            return set(session.exec(query))

    def all(self) -> list[str]:
        with self.db.session() as session:
            query = select(Workspace.workspace_id).order_by(col(Workspace.workspace_id))
            return list(session.exec(query))

    def active(self) -> list[str]:
        with self.db.session() as session:
            query = select(Workspace.workspace_id).where(col(Workspace.active).is_(True))
            return list(session.exec(query.order_by(col(Workspace.workspace_id))))

    def inactive_since(self, before: datetime) -> list[str]:
        """Workspaces uninstalled before `before`: their data's keeping period is over."""
        query = select(Workspace.workspace_id).where(
            col(Workspace.active).is_(False), col(Workspace.changed_at) < before
        )
        with self.db.session() as session:
            return list(session.exec(query))

    def purge(self, workspace_id: str) -> int:
        """Delete every row of the workspace in one transaction, and the workspace itself
        unless it is still installed (it keeps being served, from a fresh start); returns how
        many rows went."""
        removed = 0
        with self.db.writing() as session:
            row = session.get(Workspace, workspace_id)
            installed = row is not None and row.active
            tables = tenant_tables()
            if not installed:
                tables.append(SQLModel.metadata.tables[Workspace.__tablename__])
            for table in tables:
                result = session.execute(delete(table).where(table.c.workspace_id == workspace_id))
                removed += int(result.rowcount)  # type: ignore[attr-defined]
            session.commit()
        return removed

    def open_items(self) -> dict[tuple[str, str], int]:
        """How many items are open, by kind and status, across every workspace: for operators'
        metrics (counts only, no workspace's content)."""
        query = (
            select(Item.kind, Item.status, func.count())
            .where(IS_OPEN)
            .group_by(col(Item.kind), col(Item.status))
        )
        with self.db.session() as session:
            return {
                (kind.value, status.value): int(count)
                for kind, status, count in session.execute(query)
            }

    def forget_requests(self, before: datetime) -> int:
        """Forget request ids older than Slack's retry window (minutes), in every workspace,
        to keep the table small."""
        with self.db.writing() as session:
            result = session.execute(
                delete(ProcessedEvent).where(col(ProcessedEvent.received_at) < before)
            )
            session.commit()
            return int(result.rowcount)  # type: ignore[attr-defined]

"""Which workspaces may be posted to."""

from datetime import datetime

from sqlmodel import col, select

from storage.db import Database
from storage.models import Workspace


class WorkspaceStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def set_active(self, team_id: str, active: bool, reason: str, now: datetime) -> None:
        with self.db.writing() as session:
            row = session.get(Workspace, team_id) or Workspace(team_id=team_id, changed_at=now)
            row.active, row.reason, row.changed_at = active, reason, now
            session.add(row)
            session.commit()

    def inactive(self) -> set[str]:
        with self.db.session() as session:
            query = select(Workspace.team_id).where(col(Workspace.active).is_(False))
            return set(session.exec(query))

"""Events API ids already handled: Bolt does not dedupe Slack's retries, this table does."""

from datetime import datetime

from sqlmodel import col

from storage.db import Database
from storage.models import ProcessedEvent


class EventStore:
    def __init__(self, db: Database, workspace_id: str) -> None:
        self.db = db
        self.workspace_id = workspace_id
        self._insert_new = (
            db.insert_or_skip(ProcessedEvent)
            .on_conflict_do_nothing(index_elements=["workspace_id", "event_id"])
            .returning(col(ProcessedEvent.event_id))
        )

    def record_first(self, event_id: str, now: datetime) -> bool:
        """Record an Events API id (or a click's trigger id); False when it was recorded before
        (Slack retried it, or the request was replayed). One autocommit statement."""
        with self.db.autocommit() as connection:
            inserted = connection.execute(
                self._insert_new,
                {"workspace_id": self.workspace_id, "event_id": event_id, "received_at": now},
            )
            return inserted.first() is not None

"""Events API ids already handled: Bolt does not dedupe Slack's retries, this table does."""

from datetime import datetime

from sqlalchemy import delete, insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from storage.db import Database
from storage.models import ProcessedEvent

_RECORD = insert(ProcessedEvent)


class EventStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def record_first(self, event_id: str, now: datetime) -> bool:
        """Record an Events API id; False when it was recorded before (Slack retried it)."""
        try:
            with self.db.fast_write() as connection:
                connection.execute(_RECORD, {"event_id": event_id, "received_at": now})
        except IntegrityError:
            return False
        return True

    def prune(self, before: datetime) -> int:
        """Forget ids older than Slack's retry window (minutes) to keep the table small."""
        with self.db.writing() as session:
            result = session.execute(
                delete(ProcessedEvent).where(col(ProcessedEvent.received_at) < before)
            )
            session.commit()
            return int(result.rowcount)  # type: ignore[attr-defined]

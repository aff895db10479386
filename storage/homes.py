"""The App Homes Rolecall published: for each person whose Home it published, what it showed
(its filters and pages, as JSON) and when.

Any process refreshes a Home from here. Publishing is claimed first, by a write of
`published_at` that only one process can win (an upsert for a publish the person asked for, a
conditional update for a refresh), and only the winner builds and sends the view: a change
committed before a claim is in the view the claim's winner builds.
"""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import col, select

from storage.db import Database
from storage.models import HomeView


class HomeStore:
    def __init__(self, db: Database, workspace_id: str) -> None:
        self.db = db
        self.workspace_id = workspace_id
        self._mine = col(HomeView.workspace_id) == workspace_id

    def published(self, user_ids: Sequence[str]) -> dict[str, datetime]:
        """When each of these people's Home was last published: only those whose was."""
        if not user_ids:
            return {}
        query = select(HomeView.user_id, HomeView.published_at).where(
            self._mine, col(HomeView.user_id).in_(user_ids)
        )
        with self.db.reading() as connection:
            return {user_id: at for user_id, at in connection.execute(query)}

    def show(self, user_id: str, now: datetime, state: str | None, default: str) -> str:
        """Claim a publish the person asked for (opening the tab, a filter, a page) at `now`:
        it shows `state` from now on, or with None what it showed last (`default` for a Home
        never published). Returns the state it shows."""
        values = {
            "workspace_id": self.workspace_id,
            "user_id": user_id,
            "state": state or default,
            "published_at": now,
        }
        insert = self.db.insert_or_skip(HomeView).values(values)
        changes: dict[str, Any] = {"published_at": insert.excluded.published_at}
        if state is not None:
            changes["state"] = insert.excluded.state
        upsert = insert.on_conflict_do_update(
            index_elements=["workspace_id", "user_id"], set_=changes
        ).returning(col(HomeView.state))
        with self.db.autocommit() as connection:
            return str(connection.execute(upsert).scalar_one())

    def take(self, user_id: str, published_at: datetime, now: datetime) -> str | None:
        """Claim the refresh of a Home read as last published at `published_at`: it is
        published at `now` unless another process published it since. The state it shows,
        or None when another process won."""
        return self._claim(user_id, now, col(HomeView.published_at) == published_at)

    def take_since(self, user_id: str, asked_at: datetime, now: datetime) -> str | None:
        """Claim the refresh a change at `asked_at` is owed: unless the Home was published
        after it (that publish read the change). A publish at that very instant may have read
        just before it: it is refreshed. The state it shows, or None."""
        return self._claim(user_id, now, col(HomeView.published_at) <= asked_at)

    def keep(self, user_id: str, state: str, published_at: datetime) -> None:
        """What the publish at `published_at` showed, when it could not show what it was
        asked (a filter no longer theirs): unless the Home was published since."""
        keep = (
            update(HomeView)
            .where(
                self._mine,
                col(HomeView.user_id) == user_id,
                col(HomeView.published_at) == published_at,
            )
            .values(state=state)
        )
        with self.db.autocommit() as connection:
            connection.execute(keep)

    def _claim(self, user_id: str, now: datetime, owed: Any) -> str | None:
        claim = (
            update(HomeView)
            .where(self._mine, col(HomeView.user_id) == user_id, owed)
            .values(published_at=now)
            .returning(col(HomeView.state))
        )
        with self.db.autocommit() as connection:
            won = connection.execute(claim).scalar_one_or_none()
        return None if won is None else str(won)

"""Each team's outbound webhook endpoints. Their deliveries are outbox rows (`SendKind.WEBHOOK`,
keyed `webhook:<endpoint id>:<event>`), claimed and retried like every other send."""

from sqlalchemy import bindparam, delete, update
from sqlmodel import col, select

from storage.db import Database
from storage.models import OutboxSend, SendKind, Webhook

# Run for every filed item and triage: prebuilt once, and run without an ORM session, since
# most teams have no webhook and building the query cost more than the answer.
_ANY_ACTIVE = (
    select(Webhook.id)
    .where(
        Webhook.workspace_id == bindparam("workspace_id"),
        Webhook.team_channel_id == bindparam("team_channel_id"),
        col(Webhook.active).is_(True),
    )
    .limit(1)
)


def send_prefix(endpoint_id: int) -> str:
    """What the outbox keys of one endpoint's deliveries start with."""
    return f"webhook:{endpoint_id}:"


class WebhookStore:
    def __init__(self, db: Database, workspace_id: str) -> None:
        self.db = db
        self.workspace_id = workspace_id
        self._mine = col(Webhook.workspace_id) == workspace_id

    def add(self, webhook: Webhook) -> Webhook | None:
        """Store a new endpoint; None when the team already has one with this URL."""
        webhook.workspace_id = self.workspace_id
        return webhook if self.db.add_new(webhook) else None

    def get(self, endpoint_id: int) -> Webhook | None:
        """The endpoint, if it is this workspace's."""
        query = select(Webhook).where(self._mine, Webhook.id == endpoint_id)
        with self.db.session() as session:
            return session.exec(query).first()

    def for_team(self, team_channel_id: str) -> list[Webhook]:
        """The team's endpoints, active or not, oldest first."""
        query = (
            select(Webhook)
            .where(self._mine, Webhook.team_channel_id == team_channel_id)
            .order_by(col(Webhook.id))
        )
        with self.db.session() as session:
            return list(session.exec(query))

    def subscribed(self, team_channel_id: str, event: str) -> list[Webhook]:
        """The team's active endpoints that asked for `event`: one query on the unique key's
        prefix (a team has few endpoints, so the event is matched here, exactly). A team
        without one costs a single prebuilt query."""
        params = {"workspace_id": self.workspace_id, "team_channel_id": team_channel_id}
        with self.db.reading() as connection:
            if connection.execute(_ANY_ACTIVE, params).first() is None:
                return []
        query = (
            select(Webhook)
            .where(
                self._mine,
                Webhook.team_channel_id == team_channel_id,
                col(Webhook.active).is_(True),
            )
            .order_by(col(Webhook.id))
        )
        with self.db.session() as session:
            return [hook for hook in session.exec(query) if event in hook.events.split()]

    def disable(self, endpoint_id: int, reason: str) -> bool:
        """Stop sending to the endpoint, saying why; False when it was not active."""
        with self.db.writing() as session:
            result = session.execute(
                update(Webhook)
                .where(self._mine, col(Webhook.id) == endpoint_id, col(Webhook.active).is_(True))
                .values(active=False, disabled_reason=reason[:300])
            )
            session.commit()
            return bool(result.rowcount)  # type: ignore[attr-defined]

    def remove(self, team_channel_id: str, endpoint_id: int) -> bool:
        """Delete the team's endpoint and its deliveries, sent or owed, in one transaction:
        nothing queued for it is sent. Its id is never given to another endpoint."""
        with self.db.writing() as session:
            result = session.execute(
                delete(Webhook).where(
                    self._mine,
                    col(Webhook.team_channel_id) == team_channel_id,
                    col(Webhook.id) == endpoint_id,
                )
            )
            if result.rowcount:  # type: ignore[attr-defined]
                session.execute(
                    delete(OutboxSend).where(
                        col(OutboxSend.workspace_id) == self.workspace_id,
                        col(OutboxSend.kind) == SendKind.WEBHOOK,
                        col(OutboxSend.key).startswith(send_prefix(endpoint_id), autoescape=True),
                    )
                )
            session.commit()
            return bool(result.rowcount)  # type: ignore[attr-defined]

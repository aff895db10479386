"""A team's outbound webhooks: `/rolecall webhook add|list|remove`, and the team's events sent to
them through the outbox, signed (see `bot.webhooks`), retried with backoff, given up after
`MAX_ATTEMPTS`.

Each event is one outbox row per subscribed endpoint, keyed `webhook:<endpoint id>:<event key>`,
so an endpoint hears of an event once whichever runner sends it. The signed body is stored with
the row, and its `webhook-id` is derived from the key: every retry sends the same bytes under
the same id, and a receiver deduplicates attempts whose answer we lost.

When an endpoint is disabled (410 Gone, or a failure that will not mend) or an event is given
up, the team's role holders hear of it (they may remove or re-add the webhook), and so does
whoever added it (maybe a workspace admin outside the roles, and the one who knows the tool at
the other end). The note names the endpoint's id and host, never its path or secret.
"""

import hashlib
import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Literal

import httpx

from bot.clock import Clock
from bot.metrics import OUTBOX_SENDS
from bot.mrkdwn import escape, safe_mrkdwn
from bot.notices import Notices
from bot.outbox import LEASE
from bot.parsing.team import (
    WEBHOOK_USAGE,
    AddWebhook,
    ListWebhooks,
    RemoveWebhook,
    WebhookCommand,
)
from bot.parsing.words import UsageError
from bot.permissions import Permissions
from bot.risks import is_high
from bot.webhooks import Delivery, WebhookEvent, check_url, deliver, new_secret, payload
from storage.models import Item, Milestone, OutboxSend, SendKind, SendStatus, Webhook
from storage.outbox import OutboxStore, Send
from storage.teams import TeamStore
from storage.webhooks import WebhookStore, send_prefix

log = logging.getLogger(__name__)

MAX_ENDPOINTS = 10  # per team
MAX_ATTEMPTS = 8  # backoff of 1, 2, 4 … 60 minutes between them: about two hours of failures
RETRIES_PER_RUN = 50  # a backlog drains over several runs of the time loop
PREVIEW = 500  # characters of an item's text in a payload

# What one attempt did, as the outbox metric counts it.
Result = Literal["posted", "failed", "dead", "skipped"]


class Webhooks:
    def __init__(
        self,
        store: WebhookStore,
        sends: OutboxStore,
        teams: TeamStore,
        permissions: Permissions,
        notices: Notices,
        http: httpx.Client,
        clock: Clock,
        *,
        allow_private: bool = False,
    ) -> None:
        """`http`: the process's client (see `bot.webhooks.new_client`). `allow_private` lets
        webhooks reach loopback and private addresses over plain http: for local tests only."""
        self.store = store
        self.sends = sends
        self.teams = teams
        self.permissions = permissions
        self.notices = notices
        self.http = http
        self.clock = clock
        self.allow_private = allow_private

    # Commands ----------------------------------------------------------------------------

    def run(self, channel_id: str, actor_id: str, command: WebhookCommand) -> str:
        if isinstance(command, ListWebhooks):
            return _listing(channel_id, self.store.for_team(channel_id))
        self.permissions.require_team_manager(channel_id, actor_id, "change its webhooks")
        if isinstance(command, RemoveWebhook):
            if not self.store.remove(channel_id, command.endpoint_id):
                raise UsageError(
                    f"<#{channel_id}> has no webhook `{command.endpoint_id}`: "
                    "`/rolecall webhook list` shows its webhooks."
                )
            return f"Webhook `{command.endpoint_id}` removed: nothing more is sent to it."
        return self._add(channel_id, actor_id, command)

    def _add(self, channel_id: str, actor_id: str, command: AddWebhook) -> str:
        try:
            url = check_url(command.url, allow_private=self.allow_private)
        except ValueError as refused:
            raise UsageError(f"{refused} {WEBHOOK_USAGE}") from None
        if len(self.store.for_team(channel_id)) >= MAX_ENDPOINTS:
            raise UsageError(
                f"<#{channel_id}> has {MAX_ENDPOINTS} webhooks, as many as a team may have: "
                "`/rolecall webhook remove` one first."
            )
        secret = new_secret()
        added = self.store.add(
            Webhook(
                team_channel_id=channel_id,
                url=url,
                secret=secret,
                events=" ".join(sorted(command.events)),
                created_by=actor_id,
                created_at=self.clock(),
            )
        )
        if added is None:
            raise UsageError(
                f"<#{channel_id}> already has a webhook to that URL: `/rolecall webhook list`."
            )
        return (
            f"Webhook `{added.id}` added for <#{channel_id}>: {_events(added)} to {_host(url)}.\n"
            f"Its signing secret, shown only this once: `{secret}`\n"
            "Each event is a JSON POST signed as Standard Webhooks specify: verify "
            "`webhook-signature`, an HMAC-SHA256 of `webhook-id.webhook-timestamp.body` keyed "
            "with the base64 after `whsec_` (their libraries do this); refuse timestamps more "
            "than 5 minutes off; and deduplicate by `webhook-id`, the same on every retry. "
            "Answer 2xx within 10 seconds; failures are retried for about two hours, and "
            "410 Gone turns the webhook off."
        )

    # Events ------------------------------------------------------------------------------

    def item_filed(self, item: Item) -> None:
        data = _item_data(item, item.reporter_id)
        self.emit(WebhookEvent.ITEM_FILED, item.team_channel_id, data, f"item.filed:{item.id}")

    def risk_filed(self, item: Item) -> None:
        """A new risk, with what weighs it (sent beside `item.filed`)."""
        data = {
            **_item_data(item, item.reporter_id),
            "likelihood": item.likelihood.value if item.likelihood else None,
            "impact": item.impact.value if item.impact else None,
            "high": is_high(item),
            "owner_id": item.assignee_id,
        }
        self.emit(WebhookEvent.RISK_FILED, item.team_channel_id, data, f"risk.filed:{item.id}")

    def item_status_changed(self, item: Item) -> None:
        """Keyed by the revision too: an item asked twice, or back twice, is news each time."""
        key = f"item.status_changed:{item.id}:{item.status.value}:{item.revision}"
        data = _item_data(item, item.handled_by)
        self.emit(WebhookEvent.ITEM_STATUS_CHANGED, item.team_channel_id, data, key)

    def milestone_done(self, milestone: Milestone) -> None:
        data = {
            "milestone_id": milestone.id,
            "name": milestone.name,
            "status": milestone.status.value,
            "due_date": milestone.due_date.isoformat(),
            "owner_id": milestone.owner_id,
            "actor_id": milestone.done_by,
            "created_at": _iso(milestone.created_at),
            "done_at": _iso(milestone.done_at),
        }
        key = f"milestone.done:{milestone.id}"
        self.emit(WebhookEvent.MILESTONE_DONE, milestone.team_channel_id, data, key)

    def emit(
        self,
        event: WebhookEvent,
        team_channel_id: str,
        data: Mapping[str, Any],
        event_key: str,
    ) -> None:
        """Queue the event for each of the team's active endpoints that asked for it (one query,
        then one insert; nothing more for a team without webhooks), then deliver each.
        `event_key` names the event once (`item.filed:12`): emitting it again sends nothing."""
        endpoints = self.store.subscribed(team_channel_id, event.value)
        if not endpoints:
            return
        now = self.clock()
        body = {
            **data,
            "workspace_id": self.store.workspace_id,
            "team_channel_id": team_channel_id,
        }
        queued = []
        for endpoint in endpoints:
            key = send_prefix(_id(endpoint)) + event_key
            signed = payload(event, body, self._message_id(key), now)
            queued.append((Send(key, SendKind.WEBHOOK, message=signed), str(endpoint.id)))
        self.sends.queue(queued, now)
        for send, destination in queued:
            assert send.message is not None
            self._attempt(send.key, destination, send.message)

    def owed(self, at: datetime) -> list[OutboxSend]:
        """Deliveries due at `at`: failed and backed off, queued and never tried (the process
        that queued them stopped), or abandoned mid-attempt; the oldest first, a bounded few."""
        return self.sends.to_retry(SendKind.WEBHOOK, at, at - LEASE, limit=RETRIES_PER_RUN)

    def resend(self, owed: OutboxSend) -> Result:
        assert owed.message is not None, "a webhook's body is stored when it is queued"
        return self._attempt(owed.key, owed.destination, owed.message)

    # Delivery ----------------------------------------------------------------------------

    def _attempt(self, key: str, destination: str, body: dict[str, Any]) -> Result:
        """One attempt, if this runner wins the claim: delivered, backed off, or given up."""
        now = self.clock()
        send = Send(key, SendKind.WEBHOOK, message=body)
        if key not in self.sends.claim([send], destination, now, now - LEASE, ""):
            return _counted("skipped")
        endpoint = self.store.get(int(destination))
        if endpoint is None or not endpoint.active:  # removed or turned off since it was queued
            self.sends.record_final([key], SendStatus.DEAD, now)
            return _counted("dead")
        delivery = deliver(
            self.http,
            endpoint.url,
            endpoint.secret,
            str(body["id"]),
            body,
            now,
            allow_private=self.allow_private,
        )
        if delivery.ok:
            self.sends.record_final([key], SendStatus.SENT, now)
            return _counted("posted")
        log.warning(
            "webhook %s: %s %s not delivered: %s",
            endpoint.id,
            body.get("type"),
            body.get("id"),
            delivery.detail,
        )
        if delivery.gone or not delivery.retryable:
            self.sends.record_final([key], SendStatus.DEAD, now)
            self._disable(endpoint, delivery)
            return _counted("dead")
        claimed = self.sends.get(key)
        if claimed is not None and claimed.attempts >= MAX_ATTEMPTS:
            self.sends.record_final([key], SendStatus.DEAD, now)
            self._gave_up(endpoint, str(body.get("type")), claimed.attempts, delivery, now)
            return _counted("dead")
        self.sends.record_failed([key], now, maybe_posted=False)
        return _counted("failed")

    def _disable(self, endpoint: Webhook, delivery: Delivery) -> None:
        if not self.store.disable(_id(endpoint), delivery.detail):
            return  # another runner disabled it, and told the team
        log.warning("webhook %s disabled: %s", endpoint.id, delivery.detail)
        self._tell(
            endpoint,
            f"webhook-disabled:{endpoint.id}",
            f"{_named(endpoint)} is off: it answered {_detail(delivery)}. Nothing more is sent "
            f"to it; `/rolecall webhook remove {endpoint.id}`, then `/rolecall webhook add`, "
            "sets it up again.",
        )

    def _gave_up(
        self, endpoint: Webhook, event: str, attempts: int, delivery: Delivery, now: datetime
    ) -> None:
        """Tell the team, at most once a day per endpoint: an endpoint down for hours would
        otherwise send a note for every event."""
        log.error(
            "webhook %s: gave up on a %s event after %d attempts", endpoint.id, event, attempts
        )
        self._tell(
            endpoint,
            f"webhook-dead:{endpoint.id}:{now.date().isoformat()}",
            f"{_named(endpoint)} failed {attempts} times in a row, so I gave up on one event "
            f"(`{event}`); the last answer: {_detail(delivery)}. Later events are still sent. "
            f"`/rolecall webhook list` shows it; `/rolecall webhook remove {endpoint.id}` "
            "stops it. (I tell you of this at most once a day.)",
        )

    def _tell(self, endpoint: Webhook, key: str, text: str) -> None:
        """DM the team's role holders and whoever added the webhook, each once (keyed)."""
        holders = [assignment.user_id for assignment in self.teams.roles(endpoint.team_channel_id)]
        for user_id in dict.fromkeys([*holders, endpoint.created_by]):
            self.notices.dm(f"{key}:{user_id}", user_id, text)

    def _message_id(self, key: str) -> str:
        """The `webhook-id` of a delivery: stable for its key, unique across workspaces, and
        within the characters the spec allows (event keys have dots)."""
        digest = hashlib.sha256(f"{self.store.workspace_id}/{key}".encode()).hexdigest()
        return f"msg_{digest[:32]}"


def _id(endpoint: Webhook) -> int:
    assert endpoint.id is not None, "a stored endpoint has an id"
    return endpoint.id


def _counted(result: Result) -> Result:
    OUTBOX_SENDS.labels(SendKind.WEBHOOK.value, result).inc()
    return result


def _item_data(item: Item, actor_id: str | None) -> dict[str, Any]:
    text = item.text if len(item.text) <= PREVIEW else item.text[: PREVIEW - 1] + "…"
    return {
        "item_id": item.id,
        "kind": item.kind.value,
        "status": item.status.value,
        "text": text,
        "reporter_id": item.reporter_id,
        "author_id": item.author_id,
        "actor_id": actor_id,
        "milestone_id": item.milestone_id,
        "permalink": item.permalink,
        "created_at": _iso(item.created_at),
        "updated_at": _iso(item.updated_at),
    }


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _host(url: str) -> str:
    """Where a webhook goes, as people may see it: the host alone (paths carry tokens)."""
    return f"`{escape(httpx.URL(url).host)}`"


def _events(endpoint: Webhook) -> str:
    names = endpoint.events.split()
    if set(names) == {event.value for event in WebhookEvent}:
        return "all events"
    return ", ".join(f"`{name}`" for name in names)


def _named(endpoint: Webhook) -> str:
    return f"Webhook `{endpoint.id}` of <#{endpoint.team_channel_id}> (to {_host(endpoint.url)})"


def _detail(delivery: Delivery) -> str:
    return safe_mrkdwn(delivery.detail, 300)[0]


def _listing(channel_id: str, endpoints: list[Webhook]) -> str:
    """The team's webhooks: id, host, events, state. Never a secret, path or query."""
    if not endpoints:
        return (
            f"<#{channel_id}> has no webhooks. `/rolecall webhook add https://example.com/hook` "
            "sends its events to another tool."
        )
    lines = [f"Webhooks of <#{channel_id}>:"]
    for endpoint in endpoints:
        state = (
            "active"
            if endpoint.active
            else f"*off*: {safe_mrkdwn(endpoint.disabled_reason or 'disabled', 300)[0]}"
        )
        lines.append(f"• `{endpoint.id}` {_host(endpoint.url)} · {_events(endpoint)} · {state}")
    return "\n".join(lines)

"""Rolecall's domain rules: who may do what, where each item goes, and closing the loop.

The service talks to Slack only through slack_sdk's WebClient (never Bolt), so the same code serves
the HTTP app, Socket Mode, the scheduler and the tests.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import blocks, time_blocks
from bot.commands import (
    AssignRole,
    FileItem,
    ListRoles,
    RemoveRole,
    RoleCommand,
    SetEmoji,
    SetEscalation,
    SetQueueChannel,
    SetTimezone,
    SettingsCommand,
    ShowSettings,
    UsageError,
)
from bot.slack import find_posts, new_tag, post_tagged
from storage.models import Delivery, Item, ItemKind, ItemStatus, Role
from storage.store import QueuedItem, Store

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class SourceMessage:
    """The Slack message an item was raised from."""

    channel_id: str
    ts: str
    text: str
    author_id: str | None
    thread_ts: str | None = None


@dataclass(frozen=True)
class Routing:
    """Where a team's cards for one role go: its holders' DMs, or the team's queue channel."""

    holders: list[str]
    queue_channel: str | None

    @property
    def recipients(self) -> list[str]:
        return [self.queue_channel] if self.queue_channel else self.holders


@dataclass(frozen=True)
class Filed:
    """The outcome of raising an item: new, or already queued (maybe counted as a +1)."""

    item: Item
    created: bool
    counted_vote: bool
    routing: Routing

    @property
    def confirmation(self) -> str:
        if self.created:
            return blocks.filed_confirmation(
                self.item, self.routing.holders, self.routing.queue_channel
            )
        return blocks.already_filed(self.item, self.counted_vote)


@dataclass(frozen=True)
class Triaged:
    """The outcome of a card button: the item after the click, or why nothing changed."""

    item: Item | None
    refusal: str | None = None


class Rolecall:
    def __init__(self, store: Store, client: WebClient, clock: Clock = utc_now) -> None:
        self.store = store
        self.client = client
        self.clock = clock

    # Roles and settings ------------------------------------------------------------------

    def can_manage(self, channel_id: str, user_id: str) -> bool:
        """Role holders and workspace admins manage a team; anyone may bootstrap an empty one."""
        assignments = self.store.roles(channel_id)
        if not assignments or any(a.user_id == user_id for a in assignments):
            return True
        return self.is_workspace_admin(user_id)

    def is_workspace_admin(self, user_id: str) -> bool:
        user = self._user(user_id)
        return bool(user.get("is_admin") or user.get("is_owner") or user.get("is_primary_owner"))

    def require_person(self, user_id: str, purpose: str = "hold a role") -> dict[str, Any]:
        """users.info for someone who must be a person: not a bot, not deactivated."""
        user = self._user(user_id)
        if user.get("is_bot") or user.get("deleted"):
            raise UsageError(f"<@{user_id}> can't {purpose}: pick a person.")
        return user

    def run_role_command(self, channel_id: str, actor_id: str, command: RoleCommand) -> str:
        """Apply a /role command and return the reply for the person who typed it."""
        if isinstance(command, ListRoles):
            return blocks.roles_summary(channel_id, self.store.roles(channel_id))
        if not self.can_manage(channel_id, actor_id):
            return (
                f"Sorry, only the people who hold a role in <#{channel_id}> (or a workspace "
                "admin) can change its roles."
            )
        label = blocks.ROLE_LABEL[command.role]
        if isinstance(command, RemoveRole):
            if self.store.remove_role(channel_id, command.user_id, command.role):
                return f"<@{command.user_id}> is no longer the {label} of <#{channel_id}>."
            return f"<@{command.user_id}> was not the {label} of <#{channel_id}>."
        assert isinstance(command, AssignRole)
        self.require_person(command.user_id)
        now = self.clock()
        if not self.store.assign_role(channel_id, command.user_id, command.role, actor_id, now):
            return f"<@{command.user_id}> is already the {label} of <#{channel_id}>."
        waiting = self.deliver_backlog(channel_id, command.role)
        if command.user_id != actor_id:
            self.notify(command.user_id, f"<@{actor_id}> made you the {label} of <#{channel_id}>.")
        reply = f"<@{command.user_id}> is now the {label} of <#{channel_id}>."
        if waiting:
            reply += f" I sent {waiting} waiting item{'s' if waiting != 1 else ''} to them."
        return reply

    def run_settings_command(self, channel_id: str, actor_id: str, command: SettingsCommand) -> str:
        settings = self.store.settings(channel_id)
        if isinstance(command, ShowSettings):
            return blocks.settings_summary(settings)
        if not self.can_manage(channel_id, actor_id):
            return (
                f"Sorry, only the people who hold a role in <#{channel_id}> (or a workspace "
                "admin) can change its settings."
            )
        if isinstance(command, SetEmoji):
            other = (
                settings.blocker_emoji
                if command.kind is ItemKind.FEEDBACK
                else (settings.feedback_emoji)
            )
            if command.emoji == other:
                raise UsageError(f":{other}: already routes the other kind of item.")
            if command.kind is ItemKind.FEEDBACK:
                settings.feedback_emoji = command.emoji
            else:
                settings.blocker_emoji = command.emoji
        elif isinstance(command, SetQueueChannel):
            if command.role is Role.PRODUCT:
                settings.product_queue_channel = command.channel_id
            else:
                settings.project_queue_channel = command.channel_id
        elif isinstance(command, SetTimezone):
            settings.timezone = command.timezone
        elif isinstance(command, SetEscalation):
            settings.escalation_hours = command.hours
        self.store.save_settings(settings)
        reply = blocks.settings_summary(settings)
        if isinstance(command, SetQueueChannel) and command.channel_id:
            reply += f"\nMake sure I'm a member of <#{command.channel_id}> (`/invite @Rolecall`)."
        return reply

    # Capture -----------------------------------------------------------------------------

    def file(
        self,
        command: FileItem,
        team_channel_id: str,
        reporter_id: str,
        source: SourceMessage | None = None,
    ) -> Filed:
        """Store the item (or count a +1 on the one already queued). Fast: no Slack calls."""
        now = self.clock()
        item = Item(
            kind=command.kind,
            team_channel_id=team_channel_id,
            text=command.text,
            reporter_id=reporter_id,
            author_id=source.author_id if source else None,
            source_channel_id=source.channel_id if source else None,
            source_ts=source.ts if source else None,
            created_at=now,
            updated_at=now,
        )
        stored, created = self.store.file_item(item)
        counted = False
        if not created and stored.reporter_id != reporter_id and stored.id is not None:
            counted = self.store.add_vote(stored.id, reporter_id, now)
        return Filed(stored, created, counted, self.routing(team_channel_id, command.kind))

    def routing(self, team_channel_id: str, kind: ItemKind) -> Routing:
        holders, queue_channel = self.store.routing(team_channel_id, kind.owner_role)
        return Routing(holders, queue_channel)

    def file_from_message(self, command: FileItem, source: SourceMessage, reporter_id: str) -> None:
        """Capture a message (typed `feedback:`, a mention, or a reaction), confirm, deliver."""
        filed = self.file(command, source.channel_id, reporter_id, source)
        if filed.created:
            permalink = self._permalink(source.channel_id, source.ts)
            if permalink:
                filed.item.permalink = permalink
                self.store.set_permalink(filed.item.id, permalink)
        self.tell(source.channel_id, reporter_id, filed.confirmation, source.thread_ts)
        if filed.created:
            self.deliver(filed.item, filed.routing)

    def routing_kind(self, channel_id: str, emoji: str) -> ItemKind | None:
        """Which queue a reaction routes to in this channel, if any."""
        settings = self.store.settings(channel_id)
        if emoji == settings.feedback_emoji:
            return ItemKind.FEEDBACK
        if emoji == settings.blocker_emoji:
            return ItemKind.BLOCKER
        return None

    def file_from_reaction(self, channel_id: str, ts: str, reactor_id: str, kind: ItemKind) -> None:
        """File the reacted message; one already queued is not fetched again, only +1'd."""
        existing = self.store.find_by_source(kind, channel_id, ts)
        if existing is not None:
            message: SourceMessage | None = SourceMessage(
                channel_id, ts, existing.text, existing.author_id
            )
        else:
            message = self._fetch_message(channel_id, ts)
        if message is None:
            log.warning("reaction on a message I cannot read: channel=%s ts=%s", channel_id, ts)
            return
        self.file_from_message(FileItem(kind, message.text), message, reactor_id)

    def notify(self, user_id: str, text: str) -> None:
        """A DM to one person (their role changed, someone set them a deadline)."""
        self._post(channel=user_id, text=text)

    def tell(self, channel_id: str, user_id: str, text: str, thread_ts: str | None = None) -> None:
        """A short ephemeral note to one person in a channel."""
        self._post_ephemeral(channel=channel_id, user=user_id, text=text, thread_ts=thread_ts)

    # Delivery ----------------------------------------------------------------------------

    def deliver(self, item: Item, routing: Routing | None = None, votes: int = 0) -> int:
        """Post the card to each holder of the owning role (or the queue channel), once each.

        `routing` saves the lookup when the caller has just made it (a freshly filed item).
        """
        assert item.id is not None
        routing = routing or self.routing(item.team_channel_id, ItemKind(item.kind))
        card = blocks.item_card(item, votes)
        delivered = 0
        for recipient in routing.recipients:
            tag = new_tag()
            claim = self.store.claim_delivery(item.id, recipient, self.clock(), tag)
            if claim is not None and self._post_card(claim, tag, item, recipient, card):
                delivered += 1
        return delivered

    def _post_card(
        self, claim: int, tag: str, item: Item, recipient: str, card: blocks.Message
    ) -> bool:
        """Post a claimed card and record it; a failed post keeps its claim for a retry."""
        try:
            channel_id, ts = post_tagged(
                self.client,
                tag,
                channel=recipient,
                text=card.text,
                blocks=card.blocks,
                unfurl_links=False,
            )
        except SlackApiError as error:
            self.store.fail_delivery(claim, self.clock())
            log_api_error(error, item=item.id, recipient=recipient)
            return False
        except BaseException:
            self.store.fail_delivery(claim, self.clock())
            raise
        self.store.record_delivery(claim, channel_id, ts)
        return True

    def retry_card(self, delivery: Delivery, now: datetime, lease: timedelta) -> bool:
        """Post a card whose earlier post failed or was abandoned, if this run wins its claim."""
        item = self.store.item(delivery.item_id)
        if item is None or item.id is None or delivery.id is None:
            return False
        if not self.store.retake_delivery(delivery.id, now, now - lease):
            return False
        tag = delivery.post_tag
        try:
            found = find_posts(self.client, delivery.recipient, {tag} if tag else set())
        except BaseException:
            self.store.fail_delivery(delivery.id, now)
            raise
        if tag in found.posts:  # the earlier attempt reached Slack; only its response was lost
            self.store.record_delivery(delivery.id, found.channel_id, found.posts[tag])
            return True
        card = blocks.item_card(item, self.store.vote_count(item.id))
        return self._post_card(delivery.id, tag, item, delivery.recipient, card)

    def queue_missing_cards(self, now: datetime) -> None:
        """Claim, for a retry, the cards of items whose acking process stopped before it
        claimed them (filed in the last day, more than a minute ago, no claim at all)."""
        for item in self.store.never_delivered(now - timedelta(days=1), now - timedelta(minutes=1)):
            assert item.id is not None
            for recipient in self.routing(item.team_channel_id, ItemKind(item.kind)).recipients:
                self.store.queue_delivery(item.id, recipient, now, new_tag())

    def deliver_backlog(self, channel_id: str, role: Role) -> int:
        """Send the items that waited for a role holder; returns how many found someone."""
        kind = ItemKind.FEEDBACK if role is Role.PRODUCT else ItemKind.BLOCKER
        routing = self.routing(channel_id, kind)
        waiting = self.store.undelivered_items(channel_id, kind)
        return sum(1 for queued in waiting if self.deliver(queued.item, routing, queued.votes))

    # Triage ------------------------------------------------------------------------------

    def triage(self, action_id: str, item_id: int, actor_id: str) -> Triaged:
        """Apply a card button for an owning-role holder; update every card; tell the reporter."""
        action = blocks.TRIAGE_ACTIONS[action_id]
        item = self.store.item(item_id)
        if item is None or item.kind != action.kind:
            return Triaged(None, "That item no longer exists.")
        role = ItemKind(item.kind).owner_role
        if actor_id not in self.store.holders(item.team_channel_id, role):
            return Triaged(
                None,
                f"Sorry, only the {blocks.ROLE_LABEL[role]} of <#{item.team_channel_id}> can "
                f"{action.label.lower()} this.",
            )
        moved = self.store.transition(
            item_id, action.allowed_from, action.to, actor_id, self.clock()
        )
        current = self.store.item(item_id)
        assert current is not None
        self.refresh_cards(current)
        if not moved:
            status = blocks.STATUS_LABEL[ItemStatus(current.status)].lower()
            return Triaged(current, f"Already {status} by <@{current.handled_by}>.")
        if current.reporter_id != actor_id:
            self._post(channel=current.reporter_id, text=blocks.reporter_update(current))
        return Triaged(current)

    def refresh_cards(self, item: Item) -> None:
        assert item.id is not None
        card = blocks.item_card(item, self.store.vote_count(item.id))
        for delivery in self.store.deliveries(item.id):
            assert delivery.channel_id is not None and delivery.message_ts is not None
            try:
                self.client.chat_update(
                    channel=delivery.channel_id,
                    ts=delivery.message_ts,
                    text=card.text,
                    blocks=card.blocks,
                )
            except SlackApiError as error:
                log_api_error(error, item=item.id, channel=delivery.channel_id)

    def digest_rows_settled(self, blocks: list[dict[str, Any]], item: Item) -> list[dict[str, Any]]:
        """A digest message's blocks with this item's rows brought up to date."""
        assert item.id is not None
        entry = QueuedItem(item, self.store.vote_count(item.id))
        return time_blocks.settled_in_place(blocks, entry, self.clock())

    def update_message(
        self, channel_id: str, ts: str, text: str, blocks: list[dict[str, Any]]
    ) -> None:
        try:
            self.client.chat_update(channel=channel_id, ts=ts, text=text, blocks=blocks)
        except SlackApiError as error:
            log_api_error(error, channel=channel_id)

    # Queues and home ---------------------------------------------------------------------

    def queue(self, channel_id: str, kind: ItemKind) -> blocks.Message:
        return blocks.queue_list(channel_id, kind, self.store.open_items(channel_id, kind))

    def publish_home(self, user_id: str) -> None:
        view = blocks.home_view(user_id, self.store.roles_of_user(user_id))
        self.client.views_publish(user_id=user_id, view=view)

    def first_time(self, event_id: str) -> bool:
        """True unless this Events API id was already handled (Slack retries)."""
        return self.store.claim_event(event_id, self.clock())

    # Slack reads and writes --------------------------------------------------------------

    def _user(self, user_id: str) -> dict[str, Any]:
        try:
            response = self.client.users_info(user=user_id)
        except SlackApiError as error:
            if error.response.get("error") == "user_not_found":
                raise UsageError(f"I can't find <@{user_id}> in this workspace.") from error
            raise
        user: dict[str, Any] = response["user"]
        return user

    def _fetch_message(self, channel_id: str, ts: str) -> SourceMessage | None:
        """Read a message by ts: history finds top-level ones, replies finds thread replies."""
        history = self.client.conversations_history(
            channel=channel_id, latest=ts, inclusive=True, limit=1
        )
        message: dict[str, Any]
        for message in history.get("messages", []):
            if message.get("ts") == ts:
                return _source(channel_id, message)
        # Slack lists a thread's parent first on every page, then replies from `oldest` on.
        replies = self.client.conversations_replies(
            channel=channel_id, ts=ts, oldest=ts, inclusive=True, limit=2
        )
        for message in replies.get("messages", []):
            if message.get("ts") == ts:
                return _source(channel_id, message)
        return None

    def _permalink(self, channel_id: str, ts: str) -> str | None:
        try:
            response = self.client.chat_getPermalink(channel=channel_id, message_ts=ts)
        except SlackApiError as error:
            log_api_error(error, channel=channel_id)
            return None
        permalink: str = response["permalink"]
        return permalink

    def _post(self, **kwargs: Any) -> None:
        try:
            self.client.chat_postMessage(unfurl_links=False, **kwargs)
        except SlackApiError as error:
            log_api_error(error, channel=kwargs.get("channel"))

    def _post_ephemeral(self, **kwargs: Any) -> None:
        try:
            self.client.chat_postEphemeral(**kwargs)
        except SlackApiError as error:
            log_api_error(error, channel=kwargs.get("channel"))


def _source(channel_id: str, message: dict[str, Any]) -> SourceMessage:
    return SourceMessage(
        channel_id=channel_id,
        ts=message["ts"],
        text=message.get("text", ""),
        author_id=message.get("user"),
        thread_ts=message.get("thread_ts"),
    )


def log_api_error(error: SlackApiError, **context: Any) -> None:
    """Log a failed Web API call with its method and Slack's error code (never the token)."""
    method = str(error.response.api_url).rsplit("/", 1)[-1]
    details = " ".join(f"{key}={value}" for key, value in context.items())
    log.error("Slack %s failed: %s %s", method, error.response.get("error"), details)

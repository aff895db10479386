"""The one capture path: every way of raising feedback, a blocker or a risk ends here.

An entry point (slash command, reaction, `feedback:` message, @mention, shortcut) builds a
`Capture` and calls `file` (store it or count a +1, link a blocker or a risk to the milestone its
text names), shows `Filed.confirmation` (a command acks with it), then calls `announce` after
the ack (link the source message, confirm when the ack did not, post the cards).
"""

import logging
from dataclasses import dataclass
from typing import Any, Literal

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.blocks.cards import already_filed, filed_confirmation, linked
from bot.cards import Cards
from bot.clock import Clock
from bot.home import Home
from bot.lookalikes import Lookalikes
from bot.metrics import ITEMS_FILED
from bot.parsing.words import tags_in
from bot.planning import Planning
from bot.risks import is_high
from bot.slack_client import log_api_error
from bot.team_webhooks import Webhooks
from storage.items import ItemStore
from storage.models import OPEN_STATUSES, QUEUE_KINDS, Item, ItemKind, Level, Role
from storage.queues import QueueStore
from storage.teams import Routing, TeamStore

log = logging.getLogger(__name__)
# What Slack answers for a message that is gone by the time a reaction to it is handled.
VANISHED = frozenset({"thread_not_found", "message_not_found", "channel_not_found"})

EntryPoint = Literal["command", "reaction", "message", "mention", "modal"]


@dataclass(frozen=True)
class SourceMessage:
    """The Slack message an item was raised from."""

    channel_id: str
    ts: str
    text: str
    author_id: str | None
    thread_ts: str | None = None

    @classmethod
    def from_slack(cls, channel_id: str, message: dict[str, Any]) -> "SourceMessage":
        """From an event or a message Slack listed (its `user` wrote it)."""
        return cls(
            channel_id=channel_id,
            ts=message["ts"],
            text=message.get("text", ""),
            author_id=message.get("user"),
            thread_ts=message.get("thread_ts"),
        )


@dataclass(frozen=True)
class Details:
    """What a modal adds to a capture: a title, and per kind its customer and impact
    (feedback), its severity and the milestone it holds up (blockers), or its likelihood,
    impact and the milestone it threatens (risks)."""

    title: str | None = None
    customer: str | None = None
    impact: Level | None = None
    severity: Level | None = None
    milestone_id: int | None = None
    likelihood: Level | None = None


@dataclass(frozen=True)
class Capture:
    """Something raised: what kind, what it says, for which team, by whom, from which message
    (none for a slash command), and through which entry point (`via`, for metrics) when the
    source does not tell: a reaction, a mention or a modal."""

    kind: ItemKind
    text: str
    team_channel_id: str
    reporter_id: str
    source: SourceMessage | None = None
    via: EntryPoint | None = None
    details: Details = Details()

    @property
    def entry_point(self) -> EntryPoint:
        if self.via is not None:
            return self.via
        return "command" if self.source is None else "message"


@dataclass(frozen=True)
class Filed:
    """The outcome of raising an item: new, or already queued (maybe counted as a +1), as
    itself or in the original it was `merged` into (then `item`)."""

    capture: Capture
    item: Item
    created: bool
    counted_vote: bool
    routing: Routing
    milestone_name: str | None
    webhooks: bool  # the team has a webhook to tell
    merged: bool = False

    @property
    def confirmation(self) -> str:
        if not self.created:
            return already_filed(self.item, self.counted_vote, merged=self.merged)
        text = filed_confirmation(self.item, self.routing.holders, self.routing.queue_channel)
        if not self.milestone_name:
            return text
        # A blocker puts its milestone at risk; a risk does only when it is high.
        return text + linked(self.milestone_name, not self.item.kind.is_risk or is_high(self.item))


class Capturer:
    def __init__(
        self,
        items: ItemStore,
        queues: QueueStore,
        teams: TeamStore,
        cards: Cards,
        planning: Planning,
        webhooks: Webhooks,
        home: Home,
        lookalikes: Lookalikes,
        client: WebClient,
        clock: Clock,
    ) -> None:
        self.home = home
        self.lookalikes = lookalikes
        self.items = items
        self.queues = queues
        self.teams = teams
        self.cards = cards
        self.planning = planning
        self.webhooks = webhooks
        self.client = client
        self.clock = clock

    def file(self, capture: Capture, request_id: str | None = None) -> Filed:
        """Store the item, or count a +1 on the one already queued, and link a new blocker to
        the milestone its text names. No Slack calls: a command acks with the confirmation.

        `request_id` (a slash command's trigger) files at most one item: the same request
        again (a replay, or a retry whose first try's outcome was lost) gets the same answer
        and the same item, whose cards and webhooks are keyed, so announcing it again posts
        nothing twice."""
        now = self.clock()
        source = capture.source
        # Reads first (the routing comes with the insert): once the item is stored, nothing may
        # fail and make the person think it was not (they would send it again).
        details = capture.details
        risk = capture.kind.is_risk
        milestone = None
        tagged = capture.text
        if (capture.kind is ItemKind.BLOCKER or risk) and details.milestone_id is not None:
            milestone = self.planning.open_milestone(capture.team_channel_id, details.milestone_id)
        elif capture.kind is ItemKind.BLOCKER or risk:
            milestone = self.planning.milestone_named_in(capture.team_channel_id, capture.text)
            if milestone is not None:  # "… #Public beta" names the milestone, not a tag
                tagged = capture.text[: capture.text.rfind("#")]
        feedback = capture.kind is ItemKind.FEEDBACK
        # Feedback that repeats an open item says so on its card (a one-click merge), noted
        # with the insert: no second write.
        original = (
            self.lookalikes.original_of(capture.team_channel_id, details.title or capture.text)
            if feedback
            else None
        )
        impact = details.impact if feedback else None
        if risk:  # a risk always weighs something: medium unless its filer says otherwise
            impact = details.impact or Level.MEDIUM
        item = Item(
            kind=capture.kind,
            team_channel_id=capture.team_channel_id,
            text=capture.text,
            reporter_id=capture.reporter_id,
            author_id=source.author_id if source else None,
            source_channel_id=source.channel_id if source else None,
            source_ts=source.ts if source else None,
            notice_thread_ts=_thread_of(capture),
            milestone_id=milestone.id if milestone else None,
            request_id=request_id,
            tags=tags_in(f"{details.title or ''} {tagged}"),
            title=details.title,
            customer=details.customer,
            impact=impact,
            severity=details.severity if capture.kind is ItemKind.BLOCKER else None,
            likelihood=(details.likelihood or Level.MEDIUM) if risk else None,
            similar_to=original,
            created_at=now,
            updated_at=now,
        )
        filing = self.items.file_request(item)
        stored, created = filing.item, filing.created
        if filing.replayed and stored.status not in OPEN_STATUSES[stored.kind]:
            created = False  # triaged since: no cards with buttons that no longer apply
        # A message merged as a duplicate counts on its original: the one its owners still
        # handle, whose closing its +1s hear of.
        merged = not created and not filing.replayed and stored.duplicate_of is not None
        if merged:
            stored = self.items.merged_into(stored)
        assert stored.id is not None
        if created and feedback:
            self.lookalikes.filed(stored.team_channel_id, stored.id, stored.title or stored.text)
        counted = False
        # A +1 is someone else asking the owners for it: not its reporter, not its owners.
        voter = capture.reporter_id
        if (
            not created
            and not filing.replayed
            and voter != stored.reporter_id
            and voter not in filing.routing.holders
        ):
            counted = self.items.add_vote(stored.id, voter, now)
        if filing.replayed:
            _count_filed(capture, "replay")
        else:
            _count_filed(capture, "new" if created else "vote" if counted else "duplicate")
        return Filed(
            capture,
            stored,
            created,
            counted,
            filing.routing,
            milestone.name if milestone and created else None,
            filing.webhooks,
            merged,
        )

    def announce(self, filed: Filed, *, confirmed: bool = False) -> None:
        """After the ack: link the source message, confirm to the reporter unless the ack
        already did, and post the cards of a new item, then send it to the team's webhooks."""
        source = filed.capture.source
        if filed.created and source is not None:
            permalink = self._permalink(source)
            if permalink and filed.item.id is not None:
                filed.item.permalink = permalink
                self.items.set_permalink(filed.item.id, permalink)
        if not confirmed:
            # A modal's source may be anywhere: its reporter just chose the team channel.
            by_modal = filed.capture.entry_point == "modal"
            channel_id = (
                source.channel_id if source and not by_modal else filed.capture.team_channel_id
            )
            thread_ts = source.thread_ts if source and not by_modal else None
            self.post_ephemeral(
                channel_id, filed.capture.reporter_id, filed.confirmation, thread_ts
            )
        if filed.created:
            self.cards.deliver(filed.item, filed.routing)
        self._refresh_homes(filed)
        if filed.created and filed.webhooks:
            self.webhooks.item_filed(filed.item)
            if filed.item.kind.is_risk:
                self.webhooks.risk_filed(filed.item)

    def _refresh_homes(self, filed: Filed) -> None:
        """The Homes a new item or a +1 changes: its owners' (their queue, "Most +1'd"), its
        reporter's (what they raised), and the project managers' when it changes a milestone
        their Home lists: a +1 on feedback planned into it (its why), a new high market risk
        to it (at risk). A blocker's or an operational risk's owners are those already."""
        item = filed.item
        if not filed.created and not filed.counted_vote:
            return
        people = [*filed.routing.holders]
        if filed.created:
            people.append(item.reporter_id)
        if item.milestone_id is not None and (
            (item.kind is ItemKind.FEEDBACK and filed.counted_vote)
            or (item.kind is ItemKind.MARKET_RISK and filed.created and is_high(item))
        ):
            people += self.teams.holders(item.team_channel_id, Role.PROJECT)
        self.home.refresh_soon(people)

    def file_and_announce(self, capture: Capture) -> Filed:
        filed = self.file(capture)
        self.announce(filed)
        return filed

    def file_reaction(self, channel_id: str, ts: str, reactor_id: str, kind: ItemKind) -> None:
        """File the reacted message; one already queued is not fetched again, only +1'd. One
        its owner moved from this queue to the other counts there: filed again, it would be
        back in the queue it was moved out of."""
        queued = self.items.by_source_in(QUEUE_KINDS, channel_id, ts)
        existing = next((i for i in queued if i.kind is kind), None) or next(
            (i for i in queued if i.moved_from is kind), None
        )
        if existing is not None:
            kind = existing.kind
            source: SourceMessage | None = SourceMessage(
                channel_id, ts, existing.text, existing.author_id
            )
        else:
            source = self._fetch_message(channel_id, ts)
        if source is None:
            log.warning("reaction on a message I cannot read: channel=%s ts=%s", channel_id, ts)
            return
        self.file_and_announce(
            Capture(kind, source.text, channel_id, reactor_id, source, via="reaction")
        )

    def routing_kind(self, channel_id: str, emoji: str) -> ItemKind | None:
        """Which queue a reaction routes to in this channel, if any."""
        settings = self.teams.settings(channel_id)
        if emoji == settings.feedback_emoji:
            return ItemKind.FEEDBACK
        if emoji == settings.blocker_emoji:
            return ItemKind.BLOCKER
        return None

    def post_ephemeral(
        self, channel_id: str, user_id: str, text: str, thread_ts: str | None = None
    ) -> None:
        """A short note only `user_id` sees, in the channel (and thread) they wrote in."""
        try:
            self.client.chat_postEphemeral(
                channel=channel_id, user=user_id, text=text, thread_ts=thread_ts
            )
        except SlackApiError as error:
            log_api_error(error, channel=channel_id)
        except OSError as error:  # Slack slow or unreachable: the note is not worth a retry
            log.error("ephemeral to %s in %s not posted: %r", user_id, channel_id, error)

    def _fetch_message(self, channel_id: str, ts: str) -> SourceMessage | None:
        """Read a message by ts: history finds top-level ones, replies finds thread replies.
        None when it is gone (deleted, or its channel is) before we could read it."""
        try:
            history = self.client.conversations_history(
                channel=channel_id, latest=ts, inclusive=True, limit=1
            )
            message: dict[str, Any]
            for message in history.get("messages", []):
                if message.get("ts") == ts:
                    return SourceMessage.from_slack(channel_id, message)
            # Slack lists a thread's parent first on every page, then replies from `oldest` on.
            replies = self.client.conversations_replies(
                channel=channel_id, ts=ts, oldest=ts, inclusive=True, limit=2
            )
        except SlackApiError as error:
            if error.response.get("error") in VANISHED:
                return None
            raise
        for message in replies.get("messages", []):
            if message.get("ts") == ts:
                return SourceMessage.from_slack(channel_id, message)
        return None

    def _permalink(self, source: SourceMessage) -> str | None:
        try:
            response = self.client.chat_getPermalink(
                channel=source.channel_id, message_ts=source.ts
            )
        except SlackApiError as error:
            log_api_error(error, channel=source.channel_id)
            return None
        except OSError as error:  # Slack slow or unreachable: the card goes without the link
            log.error("no permalink for %s/%s: %r", source.channel_id, source.ts, error)
            return None
        permalink: str = response["permalink"]
        return permalink


def _thread_of(capture: Capture) -> str | None:
    """Where the reporter hears back: the source message's thread, when Rolecall is in its
    channel (it heard the message, a reaction or a mention). A modal's source may be in any
    conversation: its thread only when that is the team's own channel, else a DM (a team's
    triage is never posted into another channel)."""
    source = capture.source
    if source is None:
        return None
    if capture.entry_point == "modal" and source.channel_id != capture.team_channel_id:
        return None
    return source.thread_ts or source.ts


def _count_filed(capture: Capture, outcome: str) -> None:
    ITEMS_FILED.labels(capture.kind.value, capture.entry_point, outcome).inc()

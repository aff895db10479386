"""News of a milestone to the people behind it: that it shipped (to everyone who asked for
what it delivers) and that it moved (to the team's product managers)."""

from dataclasses import dataclass
from datetime import date

from bot.blocks.common import Message
from bot.blocks.milestone import moved_note, shipped_note
from bot.clock import Clock
from bot.notices import Notices
from bot.outbox import Outbox, Render
from storage.models import Item, Milestone, Role, SendKind
from storage.outbox import OutboxStore, Send
from storage.planning import PlanningStore
from storage.roadmap import DeliveryStore, Quarter, ThemeStore
from storage.teams import TeamStore

POSTED_AT_ONCE = 20  # "shipped" letters posted before the reply; the time loop posts the rest


@dataclass(frozen=True)
class Letter:
    """One person's news: where it goes (their DM, or a channel's thread) and what it says."""

    person: str
    destination: str
    thread_ts: str | None
    text: str
    item_id: int | None


class MilestoneNews:
    def __init__(
        self,
        deliveries: DeliveryStore,
        planning: PlanningStore,
        themes: ThemeStore,
        teams: TeamStore,
        notices: Notices,
        sends: OutboxStore,
        outbox: Outbox,
        clock: Clock,
    ) -> None:
        self.deliveries = deliveries
        self.planning = planning
        self.themes = themes
        self.teams = teams
        self.notices = notices
        self.sends = sends
        self.outbox = outbox
        self.clock = clock

    def shipped(self, milestone: Milestone, closer: str) -> int:
        """Tell every reporter and +1 of the feedback planned into the milestone (but whoever
        closed it) that it shipped, each person once; returns how many people that is.

        Every letter is queued in the outbox, and the first `POSTED_AT_ONCE` are posted now:
        the rest (and any a stopped process did not post) go out with the time loop's next
        run, paced, so whoever closed it hears back in seconds however many asked."""
        assert milestone.id is not None
        letters = self.letters(milestone, closer)
        sends = [
            (
                Send(
                    f"notice:shipped:{milestone.id}:{letter.person}",
                    SendKind.NOTICE,
                    letter.item_id,
                    {"text": letter.text, "blocks": [], "thread_ts": letter.thread_ts},
                ),
                letter,
            )
            for letter in letters
        ]
        self.sends.queue([(send, letter.destination) for send, letter in sends], self.clock())
        for send, letter in sends[:POSTED_AT_ONCE]:
            self.outbox.send(
                [send],
                letter.destination,
                _saying(Message(letter.text, [])),
                thread_ts=letter.thread_ts,
                paced=True,
            )
        return len(letters)

    def letters(self, milestone: Milestone, closer: str) -> list[Letter]:
        """One letter per person behind the milestone's planned feedback, listing what they
        asked for. A reporter of just that one item, raised in a thread, hears there; everyone
        else by DM."""
        behind: dict[str, list[Item]] = {}
        assert milestone.id is not None
        for asked in self.deliveries.asked_for(milestone.id):
            for person in dict.fromkeys([asked.item.reporter_id, *asked.voters]):
                if person != closer:
                    behind.setdefault(person, []).append(asked.item)
        letters = []
        for person, items in behind.items():
            item = items[0]
            if (
                len(items) == 1
                and item.reporter_id == person
                and item.source_channel_id
                and item.notice_thread_ts
            ):
                text = shipped_note(milestone, items, mention=person)
                letters.append(
                    Letter(person, item.source_channel_id, item.notice_thread_ts, text, item.id)
                )
                continue
            text = shipped_note(milestone, items)
            only = item.id if len(items) == 1 else None
            letters.append(Letter(person, person, None, text, only))
        return letters

    def moved(self, milestone: Milestone, to: date, mover: str) -> None:
        """Tell the team's product managers (but the mover) that a milestone with planned
        feedback or a theme moved (from its due date as read before the move); once per
        milestone and new date. The first move past its theme's quarter says so, once per
        milestone and theme."""
        assert milestone.id is not None
        _, planned = self.planning.why(milestone.id, limit=0)
        theme = self.themes.get(milestone.theme_id) if milestone.theme_id else None
        if not planned and theme is None:
            return
        last_day = Quarter.of_theme(theme).last_day if theme else None
        crossed = last_day is not None and milestone.due_date <= last_day < to
        for manager in self.teams.holders(milestone.team_channel_id, Role.PRODUCT):
            if manager == mover:
                continue
            key = f"milestone-moved:{milestone.id}:{to}:{manager}"
            flag = f"past-quarter:{milestone.id}:{milestone.theme_id}:{manager}"
            flagging = crossed and self.sends.get(f"notice:{flag}") is None
            text = moved_note(milestone, to, mover, planned, theme, flagging)
            self.notices.dm(flag if flagging else key, manager, text)


def _saying(message: Message) -> Render:
    return lambda _: message

"""Snooze 1 day, Snooze until Monday and Mute on an overdue reminder: who may, what changes,
and what the clicked message says afterwards.

The button's value names a milestone or deadline (`Subject.value`) and nothing else. Only the
people the reminder is for may press them: a deadline's assignee, a milestone's owner, the
team's project managers, or a workspace admin. A snooze holds the overdue reminders until a
working day of the team (`bot.reminders` sends one on that day); a mute stops them until the
date moves (`PlanningStore.reschedule`), and the digest still lists it. A click counts only on
a message our records say is a reminder we sent to the person who clicked; that message is
rewritten from its blocks as read back from Slack, never from the click's payload.
"""

import logging
import re
from collections.abc import Callable
from datetime import date, timedelta

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.blocks.common import day_label
from bot.blocks.reminders import SNOOZE_ACTIONS, Subject, snoozed_in_place
from bot.clock import Clock
from bot.parsing.words import parse_row_id
from bot.people import People
from bot.permissions import Refused
from bot.schedule import ONE_DAY
from bot.slack_client import log_api_error
from bot.working_time import WorkingTime
from storage.models import Deadline, Milestone, Role, SendKind, WorkStatus
from storage.outbox import OutboxStore
from storage.planning import PlanningStore
from storage.teams import TeamStore

log = logging.getLogger(__name__)

SNOOZE_DAY, SNOOZE_WEEK, MUTE = SNOOZE_ACTIONS
VALUE = re.compile(r"(milestone|deadline):([0-9]+)")
WEEK_DAYS = 7


def parse_subject(value: object) -> Subject | None:
    """The subject a button of ours names ("deadline:12"); None for anything else."""
    if not isinstance(value, str):
        return None
    found = VALUE.fullmatch(value)
    row_id = None if found is None else parse_row_id(found.group(2))
    if found is None or row_id is None:
        return None
    return Subject("milestone" if found.group(1) == "milestone" else "deadline", row_id)


def snooze_end(action_id: str, work: WorkingTime, today: date) -> date:
    """The first day reminders come back: the team's next working day after today, or the
    first working day of next week (Monday, unless it is a day off)."""
    if action_id == SNOOZE_DAY:
        return work.working_day_from(today + ONE_DAY)
    return work.working_day_from(today + timedelta(days=WEEK_DAYS - today.weekday()))


class Snoozes:
    """The three buttons of an overdue reminder, for one workspace."""

    def __init__(
        self,
        store: PlanningStore,
        teams: TeamStore,
        people: People,
        working_time: Callable[[str], WorkingTime],
        sends: OutboxStore,
        client: WebClient,
        clock: Clock,
    ) -> None:
        """`working_time`: a team's working week and holidays, by channel."""
        self.store = store
        self.teams = teams
        self.people = people
        self.working_time = working_time
        self.sends = sends
        self.client = client
        self.clock = clock

    def press(
        self, action_id: str, subject: Subject, user_id: str, channel_id: str, message_ts: str
    ) -> str | None:
        """Apply a button pressed on the reminder at (channel, ts); what the person should be
        told, if the message they clicked does not say it. Raises Refused for someone the
        reminder is not for."""
        if not self._ours(channel_id, message_ts, user_id):
            log.warning(
                "reminder button on a message we did not send this person: channel=%s ts=%s",
                channel_id,
                message_ts,
            )
            return None
        row = self._read(subject)
        if row is None:
            log.warning("reminder button for a %s that is not here", subject.value)
            return None
        self._require_recipient(row, user_id)
        done = f"That {subject.kind} is done: no more reminders about it."
        if row.status is not WorkStatus.OPEN:
            return done
        work = self.working_time(row.team_channel_id)
        today = work.today(self.clock())
        table = type(row)
        if action_id == MUTE:
            changed = self.store.mute(table, subject.row_id, user_id)
        else:
            changed = self.store.snooze(table, subject.row_id, snooze_end(action_id, work, today))
        # What the row says now, whoever changed it: a second click reads the first one's.
        row = self._read(subject)
        if row is None or row.status is not WorkStatus.OPEN:
            return done
        if row.muted_by is not None:
            line = f":no_bell: Muted by <@{row.muted_by}>: no more reminders about it"
            already = f"It is already muted by <@{row.muted_by}>: no more reminders about it."
        elif row.snoozed_until is not None and row.snoozed_until > today:
            by = f" by <@{user_id}>" if changed else ""
            line = f":zzz: Snoozed until {day_label(row.snoozed_until)}{by}"
            already = f"It is already snoozed until {day_label(row.snoozed_until)}."
        else:
            return "Its date moved meanwhile: its reminders follow the new date."
        shown = self._rewrite(subject, channel_id, message_ts, line)
        if not changed:
            return already
        return None if shown else f"{line}."

    def _read(self, subject: Subject) -> Milestone | Deadline | None:
        if subject.kind == "milestone":
            return self.store.dated(Milestone, subject.row_id)
        return self.store.dated(Deadline, subject.row_id)

    def _ours(self, channel_id: str, message_ts: str, user_id: str) -> bool:
        """Whether (channel, ts) is a reminder we posted to this person."""
        posted = self.sends.posted(SendKind.REMINDER, channel_id, message_ts)
        return posted is not None and posted.destination == user_id

    def _require_recipient(self, row: Milestone | Deadline, user_id: str) -> None:
        """The people its overdue reminders are for, and workspace admins."""
        channel = row.team_channel_id
        mine = row.assignee_id if isinstance(row, Deadline) else row.owner_id
        if user_id == mine or user_id in self.teams.holders(channel, Role.PROJECT):
            return
        if self.people.is_admin(user_id):
            return
        kind = "deadline" if isinstance(row, Deadline) else "milestone"
        who = f"<@{mine}>, " if mine else ""
        raise Refused(
            f"Sorry, only {who}the project managers of <#{channel}> (or a workspace admin) can "
            f"snooze or mute reminders about this {kind}."
        )

    def _rewrite(self, subject: Subject, channel_id: str, message_ts: str, text: str) -> bool:
        """Show `text` in place of the subject's buttons on the message; whether it shows."""
        try:
            page = self.client.conversations_history(
                channel=channel_id, oldest=message_ts, latest=message_ts, inclusive=True, limit=1
            )
            message = next((m for m in page["messages"] if m.get("ts") == message_ts), None)
            if message is None:
                return False  # deleted since
            blocks = message.get("blocks") or []
            updated = snoozed_in_place(blocks, subject, text)
            if updated == blocks:
                return any(b.get("block_id") == subject.actions_id for b in blocks)
            self.client.chat_update(
                channel=channel_id, ts=message_ts, text=message.get("text", ""), blocks=updated
            )
            return True
        except SlackApiError as error:
            log_api_error(error, channel=channel_id)
        except OSError as error:  # Slack slow or unreachable: the message stays as it was
            log.error("reminder %s in %s not updated: %r", message_ts, channel_id, error)
        return False

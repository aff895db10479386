"""App Home: each person's queues, per role they hold, and what they raised; their open
risks, and their milestones and roadmap themes with why each milestone exists.

Built from one page of each list (never a whole queue), published when someone opens the tab or
changes a filter or a page, and refreshed, at most once per person every few seconds, when
something it shows changes (`refresh_soon`), by whichever process handles the change: what
each Home showed and when is kept in the database (`storage.homes`), not in the process that
published it.
"""

import json
import logging
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from functools import cached_property, partial
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.exc import SQLAlchemyError

from bot.blocks.home import (
    CLEAR,
    COUNT_CAP,
    FILTER_STATUSES,
    LISTED,
    MORE,
    RISK_ROWS,
    ROADMAP_THEMES,
    ROWS,
    SECTIONS,
    STATUS,
    TAG,
    TEAM,
    THEME_MILESTONES,
    TOP,
    WHY_NAMED,
    HomeData,
    HomeState,
    ProductPart,
    ProjectPart,
    Roadmap,
    Rows,
    Section,
    home_view,
    horizon,
    tag_of,
    team_of,
)
from bot.clock import Clock, as_utc, utc_now
from bot.membership import Membership
from bot.mrkdwn import safe_mrkdwn
from bot.schedule import local_today, zone
from storage.homes import HomeStore
from storage.items import QueuedItem
from storage.models import ItemKind, ItemStatus, Role, RoleAssignment
from storage.planning import PlanningStore
from storage.queues import Page, QueueOrder, QueueQuery, QueueStore, Risks, cursor_of, page_from
from storage.roadmap import Quarter, ThemeStore
from storage.teams import TeamStore

log = logging.getLogger(__name__)

REFRESH_SECONDS = 5.0  # at most one refresh of a person's Home this often
TAG_PROBE = 100  # a tag filter matching at most this many items is paged in memory
PRODUCT_SECTIONS = (
    (Section.NEW, QueueOrder.NEWEST),
    (Section.WAITING, QueueOrder.OLDEST),
    (Section.VOTED, QueueOrder.MOST_VOTED),
)
PRODUCT_COUNTED = (ItemStatus.OPEN, ItemStatus.NEEDS_INFO, ItemStatus.SNOOZED)
PROJECT_COUNTED = (ItemStatus.OPEN, ItemStatus.ACKNOWLEDGED)
# The blockers section pages through the unacknowledged, then the acknowledged: its cursor
# names which ("o:" or "a:") before the queue's own cursor.
_OPEN, _ACKNOWLEDGED = "o", "a"

Schedule = Callable[[float, Callable[[], None]], None]
Read = Callable[[int, str | None], Page]


def on_a_timer(delay_seconds: float, work: Callable[[], None]) -> None:
    """Run `work` on its own daemon thread after `delay_seconds`."""
    timer = threading.Timer(delay_seconds, work)
    timer.daemon = True
    timer.start()


class Home:
    def __init__(
        self,
        queues: QueueStore,
        teams: TeamStore,
        planning: PlanningStore,
        client: WebClient,
        clock: Clock = utc_now,
        *,
        refresh_seconds: float = REFRESH_SECONDS,
        schedule: Schedule = on_a_timer,
        membership: Membership,
    ) -> None:
        """`schedule(delay, work)` runs a deferred refresh and `clock` times the refresh
        window (it stamps the publishes every process reads): tests pass their own, so
        nothing sleeps."""
        self.queues = queues
        self.teams = teams
        self.planning = planning
        self.client = client
        self.clock = clock
        self.refresh_seconds = refresh_seconds
        self.schedule = schedule
        self.membership = membership  # a team's items show only to people in its channel
        # What each Home showed and when: in the database, so any process refreshes it.
        self.shown = HomeStore(planning.db, planning.workspace_id)
        self._lock = threading.Lock()
        # Person → the latest change a deferred refresh of this process owes them.
        self._pending: dict[str, datetime] = {}
        self._closed = False

    # Publishing --------------------------------------------------------------------------

    def opened(self, user_id: str, view: object) -> None:
        """They opened the Home tab: publish it afresh, with the filters the view Slack shows
        them carries (every section from its first page)."""
        metadata = view.get("private_metadata") if isinstance(view, dict) else None
        self.publish(user_id, HomeState.parse(metadata).from_top() if metadata else None)

    def publish(
        self, user_id: str, view_state: HomeState | None = None, note: str | None = None
    ) -> None:
        """Build and publish the person's Home now: in `view_state` (the filters and pages
        their view carried), else as it last showed them (whichever process published it),
        else the default. `note`: a line the bot wrote for them (a filter it could not apply).

        The publish is stored before the view is built: a change made meanwhile, anywhere,
        finds it recent and refreshes the Home once its window ends."""
        now = self.clock()
        asked = view_state.to_metadata() if view_state else None
        shown = self.shown.show(user_id, now, asked, HomeState().to_metadata())
        self._send(user_id, view_state or HomeState.parse(shown), note, now)

    def refresh_soon(self, user_ids: Iterable[str]) -> None:
        """Something these people's Homes show changed. Each whose Home was ever published
        (by any process) is republished at once if that was a window ago (`refresh_seconds`)
        by the one process whose claim wins; else once, when the window ends, however many
        changes come in it, by whichever process claims it then. Nobody else: a reporter who
        never opened Home costs no views.publish per filing, and opening it publishes it
        afresh."""
        wanted: list[str] = []
        with self._lock:
            if self._closed:
                return
            asked_at = self.clock()
            for user_id in dict.fromkeys(user_ids):
                if user_id in self._pending:  # its refresh here, still to come, shows this
                    self._pending[user_id] = max(self._pending[user_id], asked_at)
                else:
                    wanted.append(user_id)
        if not wanted:
            return
        try:
            published = self.shown.published(wanted)
        except SQLAlchemyError:
            log.warning("could not read whose App Home to refresh", exc_info=True)
            return
        window = timedelta(seconds=self.refresh_seconds)
        for user_id, published_at in published.items():
            if published_at > asked_at:
                continue  # published since the change (elsewhere): that build read it
            if asked_at - published_at >= window:
                take = partial(self.shown.take, user_id, published_at, asked_at)
                self._refresh(user_id, take, asked_at)
            else:
                self._defer(user_id, published_at + window - asked_at, asked_at)

    def close(self) -> None:
        """The process stops: refreshes waiting for their window are dropped (their timers
        find nothing to do), and no more are taken. Opening the Home publishes it afresh."""
        with self._lock:
            self._closed = True
            self._pending.clear()

    def _defer(self, user_id: str, wait: timedelta, asked_at: datetime) -> None:
        """One refresh when the window ends, for this change and any later one here."""
        with self._lock:
            if self._closed:
                return
            if user_id in self._pending:
                self._pending[user_id] = max(self._pending[user_id], asked_at)
                return
            self._pending[user_id] = asked_at
        self.schedule(max(wait.total_seconds(), 0.0), partial(self._deferred, user_id))

    def _deferred(self, user_id: str) -> None:
        with self._lock:
            asked_at = self._pending.pop(user_id, None)
        if asked_at is None:
            return  # the process stopped
        now = self.clock()
        self._refresh(user_id, partial(self.shown.take_since, user_id, asked_at, now), now)

    def _refresh(self, user_id: str, claim: Callable[[], str | None], at: datetime) -> None:
        """Publish the Home as it last showed, if `claim` wins it for this process at `at`
        (it returns the stored state; None when another process published it since)."""
        try:
            shown = claim()
            if shown is not None:
                self._send(user_id, HomeState.parse(shown), None, at)
        except (SlackApiError, OSError, SQLAlchemyError):
            # A courtesy after a change already made (and told): the next one catches up.
            log.warning("could not refresh the App Home of %s", user_id, exc_info=True)

    def _send(
        self, user_id: str, state: HomeState, note: str | None, published_at: datetime
    ) -> None:
        data = self.read(user_id, state, note)
        self.client.views_publish(user_id=user_id, view=home_view(data))
        if data.state != state:
            # It could not show that (a team they no longer manage): its refreshes show this.
            self.shown.keep(user_id, data.state.to_metadata(), published_at)

    # Reading -----------------------------------------------------------------------------

    @cached_property
    def themes(self) -> ThemeStore:
        """The roadmap of the workspace whose milestones this Home reads."""
        return ThemeStore(self.planning.db, self.planning.workspace_id)

    def view(
        self, user_id: str, state: HomeState | None = None, note: str | None = None
    ) -> dict[str, Any]:
        """The person's Home, built but not published."""
        return home_view(self.read(user_id, state, note))

    def read(
        self, user_id: str, state: HomeState | None = None, note: str | None = None
    ) -> HomeData:
        """One page of each section the person's Home shows. An item shows once: later
        sections read past the items earlier ones show."""
        state = state or HomeState()
        now = self.clock()
        assignments = self.teams.roles_of(user_id)
        # Only the teams whose channel they are in: a role outlives leaving the channel.
        among = self.membership.members_among(sorted({a.channel_id for a in assignments}), user_id)
        product_teams = _teams(assignments, Role.PRODUCT, among.channels)
        project_teams = _teams(assignments, Role.PROJECT, among.channels)
        if state.team is not None and state.team not in product_teams:
            held = any(a.channel_id == state.team and a.role is Role.PRODUCT for a in assignments)
            if product_teams and state.team not in among.unchecked:  # else among's note says
                why = "You are not in" if held else "You are not the product manager of"
                note = f"{why} <#{state.team}>: showing all your teams."
            state = state.with_filters(team=None)
        note = " ".join(n for n in (note, among.note()) if n) or None
        seen: set[int] = set()
        product = self._product(product_teams, state, seen) if product_teams else None
        project = self._project(project_teams, state, seen) if project_teams else None
        raised, _ = self._fill(
            lambda limit, after: self.queues.raised(user_id, limit, after),
            QueueOrder.NEWEST,
            state.after.get(Section.RAISED),
            seen,
        )
        deadlines, total = self.planning.deadlines_of(user_id, LISTED)
        return HomeData(
            user_id=user_id,
            assignments=assignments,
            now=now,
            state=state,
            product=product,
            project=project,
            raised=raised,
            deadlines=deadlines,
            deadlines_total=total,
            note=note,
        )

    def _product(self, teams: Sequence[str], state: HomeState, seen: set[int]) -> ProductPart:
        shown_teams = (state.team,) if state.team else tuple(teams)
        newest, every_match = self._tagged(shown_teams, state)
        rows: dict[Section, Rows] = {}
        every_match_seen = False
        for name, order in PRODUCT_SECTIONS:
            if every_match_seen and name not in state.after:
                # An earlier section, read from the top, found every item the filters match
                # (a rare tag, say): from the top, this one could only list those again.
                rows[name] = Rows()
                continue
            query = QueueQuery(
                shown_teams,
                ItemKind.FEEDBACK,
                (state.status,),
                tag=state.tag,
                order=order,
                min_votes=1 if name is Section.VOTED else 0,
            )
            if every_match or (name is Section.NEW and newest and name not in state.after):
                read: Read = partial(page_from, newest, query)
            else:
                read = partial(self.queues.page, query)
            rows[name], complete = self._fill(read, order, state.after.get(name), seen)
            every_match_seen |= complete and name is not Section.VOTED
        zones = self._zones(teams)
        return ProductPart(
            teams,
            self.queues.counts_upto(teams, ItemKind.FEEDBACK, PRODUCT_COUNTED, COUNT_CAP),
            rows[Section.NEW],
            rows[Section.WAITING],
            rows[Section.VOTED],
            risks=self._risks(teams, ItemKind.MARKET_RISK, seen),
            roadmap=self._roadmap(teams, zones),
            zones=zones,
        )

    def _risks(self, teams: Sequence[str], kind: ItemKind, seen: set[int]) -> Risks:
        """The open risks of the role's kind in every team where they hold it, whatever the
        feedback filters (they are not feedback)."""
        risks = self.queues.open_risks(teams, kind, RISK_ROWS)
        seen.update(risk.item.id for risk in risks.shown if risk.item.id is not None)
        return risks

    def _roadmap(self, teams: Sequence[str], zones: Mapping[str, ZoneInfo]) -> Roadmap:
        """This quarter's themes in the teams, the milestones of the first few and the why
        of the first of those: a read per team (a quarter has a handful of themes), then one
        for the milestones and one for their whys. "This quarter" is each team's own, in its
        time zone, as `/roadmap` and the digest count it; the heading names the first team's."""
        now = self.clock()
        quarters = {team: Quarter.of(local_today(now, zones[team])) for team in teams}
        quarter = quarters[teams[0]] if teams else Quarter.of(as_utc(now).date())
        themes = [
            progress for team in teams for progress in self.themes.progress(team, quarters[team])
        ]
        shown = themes[:ROADMAP_THEMES]
        milestones = self.themes.milestones([p.theme.id for p in shown if p.theme.id is not None])
        listed = [m.id for found in milestones.values() for m in found[:THEME_MILESTONES]]
        whys = self.planning.why_of([m for m in listed if m is not None], WHY_NAMED)
        return Roadmap(quarter, shown, len(themes), milestones, whys)

    def _tagged(self, teams: tuple[str, ...], state: HomeState) -> tuple[list[QueuedItem], bool]:
        """With a tag filter: the newest `TAG_PROBE` items it matches, and whether that is
        all of them. A rare tag would otherwise cost each section a scan of the whole queue
        for its few items: when it matches no more, the sections page through them in memory
        (and "New" always starts from them)."""
        if not state.tag:
            return [], False
        query = QueueQuery(
            teams, ItemKind.FEEDBACK, (state.status,), tag=state.tag, order=QueueOrder.NEWEST
        )
        probe = self.queues.page(query, TAG_PROBE)
        return probe.entries, probe.after is None

    def _project(self, teams: Sequence[str], state: HomeState, seen: set[int]) -> ProjectPart:
        counts = self.queues.counts_upto(teams, ItemKind.BLOCKER, PROJECT_COUNTED, COUNT_CAP)
        blockers = self._blockers(teams, state.after.get(Section.BLOCKERS), counts)
        seen.update(entry.item.id for entry in blockers.entries if entry.item.id is not None)
        now = self.clock()
        zones = self._zones(teams)
        last_days = {team: horizon(local_today(now, tz)) for team, tz in zones.items()}
        milestones, milestones_total = self.planning.due_milestones(last_days, LISTED)
        overdue, overdue_total = self.planning.overdue_in(teams, now, zone, LISTED)
        listed = [t.milestone.id for t in milestones if t.milestone.id is not None]
        return ProjectPart(
            teams,
            counts,
            blockers,
            milestones,
            milestones_total,
            overdue,
            overdue_total,
            risks=self._risks(teams, ItemKind.OPERATIONAL_RISK, seen),
            whys=self.planning.why_of(listed, WHY_NAMED),
            zones=zones,
        )

    def _zones(self, teams: Sequence[str]) -> dict[str, ZoneInfo]:
        """Each team's time zone: what is due today, or the day a snooze ends, is its own date
        (a read per team, as for its settings anywhere else)."""
        return {team: zone(self.teams.settings(team).timezone) for team in teams}

    def _blockers(
        self, teams: Sequence[str], cursor: str | None, counts: dict[ItemStatus, int]
    ) -> Rows:
        """Open blockers by age: the unacknowledged, then the acknowledged."""

        def oldest(status: ItemStatus) -> QueueQuery:
            return QueueQuery(tuple(teams), ItemKind.BLOCKER, (status,))

        phase, _, after = (cursor or "").partition(":")
        paged = cursor is not None
        entries = []
        if phase != _ACKNOWLEDGED:
            page = self.queues.page(oldest(ItemStatus.OPEN), ROWS, after or None)
            entries = list(page.entries)
            if page.after is not None:
                return Rows(entries, f"{_OPEN}:{page.after}", paged)
            after = ""
        room = ROWS - len(entries)
        if room == 0:
            more = counts.get(ItemStatus.ACKNOWLEDGED, 0) > 0
            return Rows(entries, f"{_ACKNOWLEDGED}:" if more else None, paged)
        page = self.queues.page(oldest(ItemStatus.ACKNOWLEDGED), room, after or None)
        entries += page.entries
        return Rows(entries, f"{_ACKNOWLEDGED}:{page.after}" if page.after else None, paged)

    @staticmethod
    def _fill(
        read: Read, order: QueueOrder, after: str | None, seen: set[int]
    ) -> tuple[Rows, bool]:
        """Up to `ROWS` items not `seen` yet, from after the cursor, and the cursor of the next
        page (after the last one shown); and whether that was every item the read matches."""
        page = read(ROWS + len(seen), after)
        shown: list[QueuedItem] = []
        rest = False
        for entry in page.entries:
            if entry.item.id in seen:
                continue
            if len(shown) == ROWS:
                rest = True
                break
            shown.append(entry)
        seen.update(entry.item.id for entry in shown if entry.item.id is not None)
        more = bool(shown) and (rest or page.after is not None)
        complete = after is None and not rest and page.after is None
        rows = Rows(shown, cursor_of(shown[-1].item, order) if more else None, after is not None)
        return rows, complete


def _teams(assignments: Sequence[RoleAssignment], role: Role, member_of: list[str]) -> list[str]:
    """The channels where they hold `role`, of those they are a member of."""
    return sorted({a.channel_id for a in assignments if a.role is role} & set(member_of))


def changed(state: HomeState, action_id: str, value: str | None) -> tuple[HomeState, str | None]:
    """The state after one of the Home's own controls (`value`: what the person picked, typed
    or pressed), and a note for them when it could not be applied. Values come from the
    client: anything unexpected leaves the state as it was (or at its default)."""
    if action_id == TEAM:
        return state.with_filters(team=team_of(value)), None
    if action_id == STATUS:
        picked = ItemStatus(value) if value in FILTER_STATUSES else ItemStatus.OPEN
        return state.with_filters(status=picked), None
    if action_id == TAG:
        if not value or not value.strip():
            return state.with_filters(tag=None), None
        tag = tag_of(value)
        if tag is None:
            typed = safe_mrkdwn(" ".join(value.split()), 40)[0]
            return state, f"“{typed}” is not a tag: tags are single words, like `#pricing`."
        return state.with_filters(tag=tag), None
    if action_id == CLEAR:
        return HomeState(), None
    if action_id in (MORE, TOP):
        section, cursor = _paging(action_id, value)
        if section is not None:
            return state.paged(section, cursor), None
    return state, None


def _paging(action_id: str, value: str | None) -> tuple[Section | None, str | None]:
    """The section (and, for "Show more", the cursor) a paging button carries."""
    if action_id == TOP:
        return (Section(value) if value in SECTIONS else None), None
    try:
        carried = json.loads(value or "")
    except (ValueError, RecursionError):
        return None, None
    if not isinstance(carried, dict) or carried.get("s") not in SECTIONS:
        return None, None
    cursor = carried.get("c")
    return Section(carried["s"]), cursor if isinstance(cursor, str) else None

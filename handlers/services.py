"""The domain services of one workspace, and the registry that builds them per workspace.

Every store is built for one workspace, so a workspace's services can only read and write its
own rows; each workspace's services post with that workspace's bot token.
"""

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime

import httpx
from slack_sdk import WebClient

from bot.capture import Capturer
from bot.cards import Cards
from bot.clock import Clock, utc_now
from bot.digest import Digests
from bot.export import Exports
from bot.handoff import Handoffs
from bot.home import Home
from bot.lists import Lists
from bot.lookalikes import Lookalikes
from bot.membership import Membership
from bot.milestone_news import MilestoneNews
from bot.notices import Notices
from bot.outbox import Claims, Outbox, Pacer
from bot.people import People, SlackNames
from bot.permissions import Permissions
from bot.planning import Planning
from bot.reminders import Reminders
from bot.roadmap import Roadmap
from bot.roles import Roles
from bot.snooze import Snoozes
from bot.team_settings import TeamSettingsCommands
from bot.team_webhooks import Webhooks
from bot.tick import Ticker, TickReport
from bot.triage import Triage
from bot.webhooks import new_client
from bot.workspaces import Workspaces
from handlers.install import workspace_of
from storage.calendar import CalendarStore
from storage.db import Database
from storage.digest import DigestStore
from storage.events import EventStore
from storage.handoffs import HandoffStore
from storage.items import ItemStore
from storage.outbox import OutboxStore
from storage.planning import PlanningStore
from storage.queues import QueueStore
from storage.roadmap import DeliveryStore, ThemeStore
from storage.teams import TeamStore
from storage.webhooks import WebhookStore

log = logging.getLogger(__name__)

TICK_WORKSPACES = 4  # workspaces whose scheduled runs overlap
# The share of the process's one interpreter lock (GIL) the time loop's planning may take: the
# rest stays with acks. Measured: 12-14 ms of CPU per workspace with nothing due, which for
# 100 workspaces in one burst held acks for seconds.
TICK_CPU_SHARE = 0.1
MAX_TICK_REST = 1.0  # seconds: a workspace with much due does not stall the next for long


@dataclass(frozen=True)
class Services:
    """What one workspace's requests and scheduled runs use."""

    workspace_id: str
    clock: Clock
    db: Database
    client: WebClient
    events: EventStore
    outbox: Outbox
    workspaces: Workspaces
    capture: Capturer
    roles: Roles
    team_settings: TeamSettingsCommands
    planning: Planning
    roadmap: Roadmap
    triage: Triage
    handoffs: Handoffs
    digests: Digests
    snoozes: Snoozes
    home: Home
    membership: Membership
    webhooks: Webhooks
    lists: Lists
    exports: Exports
    ticker: Ticker

    def first_time(self, request_id: str | None) -> bool:
        """False when this request was handled before: an Events API id Slack retried, or a
        slash command's or click's trigger id replayed within the signature window."""
        return request_id is None or self.events.record_first(request_id, self.clock())


def build_services(
    db: Database,
    client: WebClient,
    workspace_id: str,
    workspaces: Workspaces,
    clock: Clock = utc_now,
    pacer: Pacer | None = None,
    claims: Claims | None = None,
    *,
    http: httpx.Client,
    allow_private_webhooks: bool = False,
) -> Services:
    """Storage → services for one workspace, on one Web API client. `pacer` and `claims` are
    the process's (shared by every workspace)."""
    teams, items = TeamStore(db, workspace_id), ItemStore(db, workspace_id)
    sends = OutboxStore(db, workspace_id)
    planning_store, events = PlanningStore(db, workspace_id), EventStore(db, workspace_id)
    queues, calendar = QueueStore(db, workspace_id), CalendarStore(db, workspace_id)
    outbox = Outbox(sends, client, clock, pacer or Pacer(), workspaces, claims or Claims())
    people = People(client)
    permissions = Permissions(teams, people)
    handoff_store = HandoffStore(db, workspace_id)
    notices = Notices(sends, outbox, items, handoff_store, teams)
    webhooks = Webhooks(
        WebhookStore(db, workspace_id),
        sends,
        teams,
        permissions,
        notices,
        http,
        clock,
        allow_private=allow_private_webhooks,
    )
    cards = Cards(teams, items, sends, outbox, client, clock, planning_store, handoff_store)
    themes, deliveries = ThemeStore(db, workspace_id), DeliveryStore(db, workspace_id)
    roadmap = Roadmap(
        themes, planning_store, deliveries, teams, permissions, handoff_store.accepted_creep, clock
    )
    news = MilestoneNews(deliveries, planning_store, themes, teams, notices, sends, outbox, clock)
    membership = Membership(client)
    home = Home(queues, teams, planning_store, client, clock, membership=membership)
    planning = Planning(
        planning_store,
        teams,
        permissions,
        people,
        notices,
        webhooks,
        clock,
        roadmap,
        news,
        calendar,
        home,
    )
    digests = Digests(
        DigestStore(db, workspace_id),
        teams,
        sends,
        outbox,
        permissions,
        calendar,
        SlackNames(client, clock),
        clock,
    )
    reminders = Reminders(planning_store, items, teams, calendar, sends, outbox)
    triage = Triage(
        items,
        teams,
        sends,
        cards,
        permissions,
        notices,
        webhooks,
        home,
        client,
        clock,
        handoff_store,
        digests,
    )
    handoffs = Handoffs(handoff_store, items, teams, triage, planning, notices, outbox, home, clock)
    return Services(
        workspace_id=workspace_id,
        clock=clock,
        db=db,
        client=client,
        events=events,
        outbox=outbox,
        workspaces=workspaces,
        capture=Capturer(
            items,
            queues,
            teams,
            cards,
            planning,
            webhooks,
            home,
            Lookalikes(queues),
            client,
            clock,
        ),
        roles=Roles(teams, permissions, people, cards, notices, home, handoffs, clock, membership),
        team_settings=TeamSettingsCommands(teams, permissions, calendar, people, clock),
        planning=planning,
        roadmap=roadmap,
        triage=triage,
        handoffs=handoffs,
        digests=digests,
        snoozes=Snoozes(planning_store, teams, people, planning.working_time, sends, client, clock),
        home=home,
        membership=membership,
        webhooks=webhooks,
        lists=Lists(queues, clock),
        exports=Exports(client, queues, permissions, clock),
        ticker=Ticker(cards, notices, reminders, digests, webhooks, triage),
    )


class NotInstalled(LookupError):
    """A request or a run for a workspace with no usable installation."""


class Tenants:
    """Each workspace's services, built on first use with its bot token, and rebuilt when
    the token changes (a reinstall).

    One `Pacer` spans workspaces (conversation ids do not repeat across them), so posts to one
    conversation stay paced whichever request or run makes them.
    """

    def __init__(
        self,
        db: Database,
        workspaces: Workspaces,
        token_for: Callable[[str], str | None],
        client_with: Callable[[str], WebClient],
        *,
        single: str | None = None,
        clock: Clock = utc_now,
        sleep: Callable[[float], None] = time.sleep,
        allow_private_webhooks: bool = False,
    ) -> None:
        """`single`: the one workspace of a single bot token, which every request is for.
        `allow_private_webhooks`: webhooks may reach loopback and private networks (tests)."""
        self.db = db
        self.workspaces = workspaces
        self.token_for = token_for
        self.client_with = client_with
        self.single = single
        self.clock = clock
        self.sleep = sleep
        self.pacer = Pacer(sleep=sleep)
        self.claims = Claims()
        self.http = new_client()  # webhook deliveries of every workspace: one connection pool
        self.allow_private_webhooks = allow_private_webhooks
        self._resting = threading.local()
        self._built: dict[str, Services] = {}
        self._lock = threading.Lock()

    def of(
        self, enterprise_id: str | None, team_id: str | None, is_enterprise_install: bool
    ) -> Services:
        """The services of the workspace a request came from."""
        workspace_id = self.single or workspace_of(enterprise_id, team_id, is_enterprise_install)
        if workspace_id is None:
            raise NotInstalled("a request without a workspace")
        return self.get(workspace_id)

    def get(self, workspace_id: str) -> Services:
        token = self.token_for(workspace_id)
        if token is None:
            raise NotInstalled(workspace_id)
        with self._lock:
            found = self._built.get(workspace_id)
        if found is not None and found.client.token == token:
            return found
        built = build_services(
            self.db,
            self.client_with(token),
            workspace_id,
            self.workspaces,
            self.clock,
            self.pacer,
            self.claims,
            http=self.http,
            allow_private_webhooks=self.allow_private_webhooks,
        )
        with self._lock:
            replaced = self._built.get(workspace_id)
            if replaced is not None and replaced.client.token == token:
                return replaced  # built meanwhile by another request: one set in use
            self._built[workspace_id] = built
        if replaced is not None:
            replaced.home.close()  # its refreshes would publish with the old token
        return built

    def close(self) -> None:
        """Close the webhooks' connections; drop the App Home refreshes still waiting."""
        with self._lock:
            built = list(self._built.values())
        for services in built:
            services.home.close()
        self.http.close()

    def forget(self, workspace_id: str) -> None:
        """Drop a workspace's services: its token changed (a reinstall) or was revoked. Their
        App Home refreshes still waiting are dropped with them: the token they hold is dead."""
        with self._lock:
            dropped = self._built.pop(workspace_id, None)
        if dropped is not None:
            dropped.home.close()

    def tick(self, at: datetime) -> TickReport:
        """One run of the time loop for every active workspace, each with its own token, up to
        `TICK_WORKSPACES` at once: a workspace whose Slack is slow (timeouts, 429 waits) or
        whose run fails does not hold up the others. The first failure is raised once all
        have run."""
        report = TickReport()
        self._resting = threading.local()  # each worker's rest, owed to its next workspace
        with ThreadPoolExecutor(TICK_WORKSPACES, thread_name_prefix="tick-workspace") as pool:
            runs = {pool.submit(self._tick, w, at): w for w in self.workspaces.active()}
        errors: list[BaseException] = []
        for run, workspace_id in runs.items():
            error = run.exception()
            if error is None:
                report.merge(run.result())
                continue
            log.error("scheduled run for workspace %s failed", workspace_id, exc_info=error)
            errors.append(error)
        if errors:
            raise errors[0]
        return report

    def _tick(self, workspace_id: str, at: datetime) -> TickReport:
        try:
            services = self.get(workspace_id)
        except NotInstalled:
            log.warning("workspace %s has no bot token: its scheduled posts wait", workspace_id)
            return TickReport()
        # Rest before this workspace for what the worker's previous one cost: never after the
        # last, so one workspace (or the last of a worker's) waits for nothing.
        self.sleep(getattr(self._resting, "owed", 0.0))
        started = time.thread_time()
        report = services.ticker.tick(at)
        self._resting.owed = self.pause_after(time.thread_time() - started)
        return report

    @staticmethod
    def pause_after(cpu_seconds: float) -> float:
        """How long a tick worker rests after a workspace that took `cpu_seconds` of this
        thread's CPU, so that all `TICK_WORKSPACES` workers together hold at most
        `TICK_CPU_SHARE` of the interpreter. Waiting on Slack or the database costs no CPU and
        earns no rest: a slow workspace does not slow the others."""
        return min(cpu_seconds * (TICK_WORKSPACES / TICK_CPU_SHARE - 1), MAX_TICK_REST)

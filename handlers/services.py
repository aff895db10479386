"""The domain services one runtime shares, built in one place from an engine and a client."""

import time
from collections.abc import Callable
from dataclasses import dataclass

from slack_sdk import WebClient
from sqlalchemy import Engine

from bot.capture import Capturer
from bot.cards import Cards
from bot.clock import Clock, utc_now
from bot.digest import Digests
from bot.home import Home
from bot.notices import Notices
from bot.outbox import Outbox, Pacer
from bot.people import People
from bot.permissions import Permissions
from bot.planning import Planning
from bot.reminders import Reminders
from bot.roles import Roles
from bot.team_settings import TeamSettingsCommands
from bot.tick import Ticker
from bot.triage import Triage
from bot.workspaces import Workspaces
from storage.db import Database
from storage.digest import DigestStore
from storage.events import EventStore
from storage.items import ItemStore
from storage.outbox import OutboxStore
from storage.planning import PlanningStore
from storage.teams import TeamStore
from storage.workspaces import WorkspaceStore


@dataclass(frozen=True)
class Services:
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
    triage: Triage
    digests: Digests
    home: Home
    ticker: Ticker

    def first_time(self, request_id: str | None) -> bool:
        """False when this request was handled before: an Events API id Slack retried, or a
        slash command's or click's trigger id replayed within the signature window."""
        return request_id is None or self.events.record_first(request_id, self.clock())


def build_services(
    engine: Engine,
    client: WebClient,
    clock: Clock = utc_now,
    sleep: Callable[[float], None] = time.sleep,
) -> Services:
    """Storage → services, on one engine and one Web API client. `sleep` paces posts to one
    conversation (tests pass one that only records)."""
    db = Database(engine)
    teams, items, sends = TeamStore(db), ItemStore(db), OutboxStore(db)
    planning_store, events = PlanningStore(db), EventStore(db)
    workspaces = Workspaces(WorkspaceStore(db), clock)
    outbox = Outbox(sends, client, clock, Pacer(sleep=sleep), workspaces)
    people = People(client)
    permissions = Permissions(teams, people)
    notices = Notices(sends, outbox, items)
    cards = Cards(teams, items, sends, outbox, client, clock)
    planning = Planning(planning_store, teams, permissions, people, notices, clock)
    digests = Digests(DigestStore(db), teams, sends, outbox, permissions, clock)
    reminders = Reminders(planning_store, items, teams, sends, outbox)
    return Services(
        clock=clock,
        db=db,
        client=client,
        events=events,
        outbox=outbox,
        workspaces=workspaces,
        capture=Capturer(items, teams, cards, planning, client, clock),
        roles=Roles(teams, permissions, people, cards, notices, clock),
        team_settings=TeamSettingsCommands(teams, permissions),
        planning=planning,
        triage=Triage(items, sends, cards, permissions, notices, client, clock),
        digests=digests,
        home=Home(teams, client),
        ticker=Ticker(cards, notices, reminders, digests),
    )

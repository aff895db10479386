"""The one place that builds the runtime: settings → engine → storage → Slack clients →
services per workspace → Bolt app → scheduler. `serve`, `socket`, `tick`, the demo and the tests
all use it."""

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger
from prometheus_client import REGISTRY
from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import Engine

from bot.clock import Clock, utc_now
from bot.metrics import OpenItems
from bot.slack_client import make_client
from bot.workspaces import Workspaces
from handlers.after_ack import SHUTDOWN_GRACE, AfterAck
from handlers.app import create_app
from handlers.install import BotTokens, Installs, TenantAuthorize, oauth_settings, workspace_of
from handlers.services import Services, Tenants
from handlers.settings import ConfigError, Settings
from handlers.web import AsgiApp, Endpoint, HttpServer
from storage.db import Database, UnassignedRows, make_engine, migrate
from storage.installations import Installations, forget_expired_states
from storage.workspaces import WorkspaceStore

log = logging.getLogger(__name__)

TICK_SECONDS = 60
EVENT_MEMORY = timedelta(days=1)  # Slack retries within minutes; a day of ids is plenty


@dataclass
class Domain:
    """Every workspace's services on a migrated database, and what installs change."""

    tenants: Tenants
    installs: Installs
    tokens: BotTokens | None  # OAuth mode: each workspace's bot, from the installations

    @property
    def services(self) -> Services:
        """The services of the one workspace of a single bot token."""
        if self.tenants.single is None:
            raise ConfigError("several workspaces are installed: name one")
        return self.tenants.get(self.tenants.single)


def connect(
    settings: Settings, clock: Clock = utc_now, sleep: Callable[[float], None] = time.sleep
) -> Domain:
    """A migrated database and the domain on it: all `rolecall tick` needs (no Bolt).

    With SLACK_CLIENT_ID and SLACK_CLIENT_SECRET, each workspace that installs the app is
    served with its own token; otherwise SLACK_BOT_TOKEN's workspace (asked of `auth.test`)
    is the only one, and rows stored before workspaces were recorded are assigned to it.
    """
    engine = make_engine(settings.database_url)
    # PostgreSQL: acks get a pool of their own (SQLite's writers queue on one lock anyway).
    postgres = engine.dialect.name == "postgresql"
    acks = make_engine(settings.database_url, for_acks=True) if postgres else None
    db = Database(engine, acks)
    store = WorkspaceStore(db)
    workspaces = Workspaces(store, clock)

    def client_with(token: str) -> WebClient:
        return make_client(token, settings.slack_api_url, settings.slack_timeout)

    if settings.oauth_enabled:
        migrate(engine)
        # Read to authorize each request, before its ack: on the ack pool.
        installations = Installations(settings.secret("slack_client_id"), db.engines[-1])
        tokens = BotTokens(installations, store)
        tenants = Tenants(
            db,
            workspaces,
            tokens.token,
            client_with,
            clock=clock,
            sleep=sleep,
            allow_private_webhooks=settings.webhooks_allow_private,
        )
        return Domain(tenants, Installs(workspaces, tokens, tenants.forget), tokens)

    settings.require("slack_bot_token")
    token = settings.secret("slack_bot_token")
    single = _token_workspace(client_with(token), store, engine, clock)
    tenants = Tenants(
        db,
        workspaces,
        lambda workspace_id: token if workspace_id == single else None,
        client_with,
        single=single,
        clock=clock,
        sleep=sleep,
        allow_private_webhooks=settings.webhooks_allow_private,
    )
    return Domain(tenants, Installs(workspaces, None, tenants.forget), None)


def _token_workspace(client: WebClient, store: WorkspaceStore, engine: Engine, clock: Clock) -> str:
    """The single bot token's workspace, as `auth.test` names it, recorded and with the
    database migrated for it. When Slack cannot be reached, a replica starts anyway with the
    workspace recorded before (a restart during a Slack outage must not fail)."""
    try:
        who = client.auth_test()
    except SlackApiError as error:
        raise ConfigError(f"Slack refused SLACK_BOT_TOKEN: {error.response.get('error')}") from None
    except OSError as error:
        try:
            migrate(engine)
        except UnassignedRows:
            raise ConfigError(
                f"cannot reach Slack ({error}) to learn SLACK_BOT_TOKEN's workspace, which this "
                "database's existing rows must be assigned to: start again once Slack answers"
            ) from None
        recorded = store.all()
        if len(recorded) != 1:
            raise ConfigError(
                f"cannot reach Slack to learn SLACK_BOT_TOKEN's workspace: {error}"
            ) from None
        log.warning("Slack is unreachable (%s); serving workspace %s as before", error, recorded[0])
        return recorded[0]
    team_id, enterprise_id = who.get("team_id"), who.get("enterprise_id")
    single = workspace_of(enterprise_id, team_id, bool(who.get("is_enterprise_install")))
    if single is None:
        raise ConfigError("auth.test named no workspace for SLACK_BOT_TOKEN")
    migrate(engine, single)
    store.known(single, team_id, enterprise_id, clock())
    return single


@dataclass
class Runtime:
    domain: Domain
    app: App
    endpoint: Endpoint
    after_ack: AfterAck
    scheduler: BackgroundScheduler | None = field(default=None)

    @property
    def services(self) -> Services:
        return self.domain.services

    @property
    def tenants(self) -> Tenants:
        return self.domain.tenants

    def start_scheduler(self) -> None:
        """Run the time loop in-process every minute (and once right away), and housekeeping
        every hour.

        APScheduler only triggers runs; what is due and what was sent lives in the database, so
        every replica may run its own scheduler and `rolecall tick` may run beside them.
        """
        scheduler = BackgroundScheduler(timezone=UTC)
        scheduler.add_job(
            lambda: self.tenants.tick(self.tenants.clock()),
            IntervalTrigger(seconds=TICK_SECONDS),
            id="tick",
            coalesce=True,
            max_instances=1,
            next_run_time=datetime.now(UTC),
        )
        scheduler.add_job(
            self.housekeeping,
            IntervalTrigger(hours=1),
            id="housekeeping",
            coalesce=True,
            max_instances=1,
        )
        scheduler.start()
        self.scheduler = scheduler

    def housekeeping(self) -> None:
        """Forget old request ids and unused install links; purge workspaces uninstalled
        longer than data is kept."""
        workspaces = self.tenants.workspaces
        workspaces.store.forget_requests(self.tenants.clock() - EVENT_MEMORY)
        workspaces.purge_expired()
        if self.domain.tokens is not None:  # install links expire by the wall clock
            forget_expired_states(self.tenants.db.engine, datetime.now(UTC))

    def ready(self) -> bool:
        """Migrated (it was, before this runtime existed) and, where it schedules, with its
        scheduler running."""
        return self.scheduler is None or bool(self.scheduler.running)

    def close(self, grace: float = SHUTDOWN_GRACE) -> int:
        """Stop scheduling, finish accepted work within `grace` seconds, hand back the outbox
        claims still held (another replica retakes them), then release database connections.
        Returns how many tasks were still running."""
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=False)
        running = self.after_ack.shutdown(grace)
        handed_back = self.tenants.claims.hand_back(self.tenants.clock())
        if running or handed_back:
            log.warning(
                "stopped with %d tasks unfinished after %.0f s; %d claims handed back",
                running,
                grace,
                handed_back,
            )
        self.tenants.close()
        self.tenants.db.dispose()
        return running


def build_runtime(
    settings: Settings,
    clock: Clock = utc_now,
    *,
    inline: bool = False,
    sleep: Callable[[float], None] = time.sleep,
) -> Runtime:
    """The domain plus the Bolt app that serves Slack's requests. `inline` runs all of a
    request's work before answering it (in-process tests)."""
    if settings.oauth_enabled:
        settings.require("slack_signing_secret")
    else:
        settings.require("slack_bot_token", "slack_signing_secret")
    domain = connect(settings, clock, sleep)
    domain.tenants.workspaces.store.forget_requests(utc_now() - EVENT_MEMORY)
    after_ack = AfterAck(inline=inline, ack_budget=settings.ack_budget)
    secret = settings.secret("slack_signing_secret")
    if domain.tokens is not None:
        oauth = oauth_settings(
            settings.secret("slack_client_id"),
            settings.secret("slack_client_secret"),
            domain.tokens.installations,
            domain.installs.installed,
        )
        app = create_app(
            domain.tenants,
            domain.installs,
            secret,
            after_ack,
            make_client(None, settings.slack_api_url, settings.slack_timeout),
            oauth=oauth,
            authorize=TenantAuthorize(domain.tokens),
            inline=inline,
        )
    else:
        app = create_app(
            domain.tenants,
            domain.installs,
            secret,
            after_ack,
            domain.services.client,
            inline=inline,
        )
    endpoint = Endpoint(app, domain.tenants.db.engine, secret, ready=lambda: runtime.ready())
    runtime = Runtime(domain, app, endpoint, after_ack)
    return runtime


def start_http(
    settings: Settings,
    host: str,
    port: int,
    reuse_port: bool = False,
    *,
    clock: Clock = utc_now,
    schedule: bool = True,
    count_open_items: bool = False,
) -> HttpServer:
    """Build everything and bind the HTTP server; the caller runs it.

    `clock` and `schedule` let tests and the demo drive time themselves. `count_open_items`
    adds the open-items gauge to this process's /metrics (one runtime per process may).
    """
    runtime = build_runtime(settings, clock)
    if schedule:
        runtime.start_scheduler()
    gauge = OpenItems(runtime.tenants.workspaces.store.open_items) if count_open_items else None
    if gauge is not None:
        REGISTRY.register(gauge)

    def on_stop() -> None:
        if gauge is not None:
            REGISTRY.unregister(gauge)
        runtime.close()

    return HttpServer(AsgiApp(runtime.endpoint), host, port, on_stop=on_stop, reuse_port=reuse_port)

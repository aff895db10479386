"""The one place that builds the runtime: settings → engine → storage → Slack client →
services → Bolt app → scheduler. `serve`, `socket`, `tick`, the demo and the tests all use it."""

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger
from slack_bolt import App

from bot.clock import Clock, utc_now
from bot.slack_client import make_client
from handlers.after_ack import AfterAck
from handlers.app import create_app
from handlers.services import Services, build_services
from handlers.settings import Settings
from handlers.web import AsgiApp, Endpoint, HttpServer
from storage.db import make_engine, migrate

TICK_SECONDS = 60
EVENT_MEMORY = timedelta(days=1)  # Slack retries within minutes; a day of ids is plenty


def connect(
    settings: Settings, clock: Clock = utc_now, sleep: Callable[[float], None] = time.sleep
) -> Services:
    """A migrated database and the domain on it: all `rolecall tick` needs (no Bolt)."""
    settings.require("slack_bot_token")
    engine = make_engine(settings.database_url)
    migrate(engine)
    client = make_client(
        settings.secret("slack_bot_token"), settings.slack_api_url, settings.slack_timeout
    )
    return build_services(engine, client, clock, sleep)


@dataclass
class Runtime:
    services: Services
    app: App
    endpoint: Endpoint
    after_ack: AfterAck
    scheduler: BackgroundScheduler | None = field(default=None)

    def start_scheduler(self) -> None:
        """Run the time loop in-process every minute (and once right away).

        APScheduler only triggers runs; what is due and what was sent lives in the database, so
        every replica may run its own scheduler and `rolecall tick` may run beside them.
        """
        scheduler = BackgroundScheduler(timezone=UTC)
        scheduler.add_job(
            lambda: self.services.ticker.tick(self.services.clock()),
            IntervalTrigger(seconds=TICK_SECONDS),
            id="tick",
            coalesce=True,
            max_instances=1,
            next_run_time=datetime.now(UTC),
        )
        scheduler.add_job(
            lambda: self.services.events.prune(self.services.clock() - EVENT_MEMORY),
            IntervalTrigger(hours=1),
            id="forget-request-ids",
            coalesce=True,
            max_instances=1,
        )
        scheduler.start()
        self.scheduler = scheduler

    def close(self) -> None:
        """Stop scheduling, finish accepted work, then release database connections."""
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=True)
        self.after_ack.shutdown()
        self.services.db.engine.dispose()


def build_runtime(
    settings: Settings,
    clock: Clock = utc_now,
    *,
    inline: bool = False,
    sleep: Callable[[float], None] = time.sleep,
) -> Runtime:
    """The domain plus the Bolt app that serves Slack's requests. `inline` runs all of a
    request's work before answering it (in-process tests)."""
    settings.require("slack_bot_token", "slack_signing_secret")
    services = connect(settings, clock, sleep)
    services.events.prune(utc_now() - EVENT_MEMORY)
    after_ack = AfterAck(inline=inline, ack_budget=settings.ack_budget)
    secret = settings.secret("slack_signing_secret")
    app = create_app(services, secret, after_ack, inline=inline)
    return Runtime(services, app, Endpoint(app, services.db.engine, secret), after_ack)


def start_http(
    settings: Settings,
    host: str,
    port: int,
    reuse_port: bool = False,
    *,
    clock: Clock = utc_now,
    schedule: bool = True,
) -> HttpServer:
    """Build everything and bind the HTTP server; the caller runs it.

    `clock` and `schedule` let tests and the demo drive time themselves.
    """
    runtime = build_runtime(settings, clock)
    if schedule:
        runtime.start_scheduler()
    return HttpServer(
        AsgiApp(runtime.endpoint), host, port, on_stop=runtime.close, reuse_port=reuse_port
    )

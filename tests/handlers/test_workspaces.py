"""Many workspaces through one server: Slack's OAuth install, each request and each scheduled
post with its own workspace's token, and nothing of one workspace reaching another (the two
below share channel and user ids on purpose)."""

import html
import json
import re
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

import httpx
import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import OperationalError

from handlers import services as services_module
from handlers.cli import main
from handlers.runtime import Runtime, build_runtime
from handlers.services import MAX_TICK_REST, TICK_CPU_SHARE, Tenants
from handlers.settings import Settings
from sandbox.fake_slack import FakeSlack
from sandbox.signed_client import SignedClient
from tests.conftest import (
    ALICE,
    BOB,
    CAROL,
    DAVE,
    ERIN,
    SIGNING_SECRET,
    TEAM,
    FixedClock,
    in_process,
)
from tests.handlers.scenario import cards, command, dm_texts, ephemerals, item_id, nudges
from tests.storage.test_schema import _single_workspace_database

PEOPLE = [(ALICE, "alice"), (BOB, "bob"), (CAROL, "carol"), (DAVE, "dave"), (ERIN, "erin")]
TENANT_TABLES = (
    "role_assignment",
    "team_settings",
    "item_vote",
    "item",
    "processed_event",
    "milestone",
    "deadline",
    "outbox",
)
# Housekeeping across workspaces: forgetting request ids older than a day.
ACROSS_WORKSPACES = re.compile(r"DELETE FROM processed_event WHERE processed_event.received_at <")


def _populate(workspace: FakeSlack) -> FakeSlack:
    """The same people and channel ids as every other workspace here: different people."""
    for user_id, name in PEOPLE:
        if user_id not in workspace.users:
            workspace.add_user(user_id, name)
    workspace.add_channel(TEAM, "launch", [u for u, _ in PEOPLE])
    return workspace


@pytest.fixture
def oauth(fake: FakeSlack, database_url: str, clock: FixedClock) -> Iterator[Runtime]:
    """Rolecall as a distributed app: no bot token, installs through OAuth."""
    settings = Settings(
        slack_client_id=FakeSlack.CLIENT_ID,
        slack_client_secret=FakeSlack.CLIENT_SECRET,
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=fake.api_url,
        database_url=database_url,
    )
    runtime = build_runtime(settings, clock, inline=True, sleep=lambda _: None)
    yield runtime
    runtime.close()


@pytest.fixture
def statements(oauth: Runtime) -> Iterator[list[str]]:
    """Every SQL statement the app runs while a test runs."""
    seen: list[str] = []

    def record(*args: object) -> None:
        seen.append(str(args[2]))

    event.listen(oauth.tenants.db.engine, "before_cursor_execute", record)
    yield seen
    event.remove(oauth.tenants.db.engine, "before_cursor_execute", record)


def unscoped(statement: str) -> list[str]:
    """The workspace tables a statement reads or writes without naming their workspace."""
    missing = []
    for table in TENANT_TABLES:
        touched = re.search(rf"\b(FROM|JOIN|INTO|UPDATE)\s+{table}\b", statement)
        named = rf"\b{table}\.workspace_id\b|INSERT INTO {table} \([^)]*\bworkspace_id\b"
        if touched and not re.search(named, statement):
            missing.append(table)
    return missing


@pytest.fixture
def web(oauth: Runtime) -> Iterator[httpx.Client]:
    """A browser: the install page and Slack's redirect back."""
    with httpx.Client(
        base_url="http://rolecall.test", transport=in_process(oauth.endpoint)
    ) as client:
        yield client


def install(web: httpx.Client, fake: FakeSlack, workspace: FakeSlack) -> httpx.Response:
    """What a workspace admin does: open the install page, approve in Slack, come back."""
    page = web.get("/slack/install")
    assert page.status_code == 200
    found = re.search(r'href="(https://slack.com/oauth/v2/authorize[^"]+)"', page.text)
    assert found is not None, page.text
    link = html.unescape(found[1])
    state = parse_qs(urlparse(link).query)["state"][0]
    assert f"client_id={FakeSlack.CLIENT_ID}" in link and "chat:write" in link
    cookie = page.headers["set-cookie"].split(";")[0]
    return web.get(
        "/slack/oauth_redirect",
        params={"code": fake.install_code(workspace), "state": state},
        headers={"cookie": cookie},
    )


@pytest.fixture
def acme(fake: FakeSlack, web: httpx.Client) -> FakeSlack:
    workspace = _populate(fake)
    assert install(web, fake, workspace).status_code == 200
    return workspace


@pytest.fixture
def globex(fake: FakeSlack, web: httpx.Client) -> FakeSlack:
    workspace = _populate(fake.add_workspace("T0002"))
    assert install(web, fake, workspace).status_code == 200
    return workspace


def signed(oauth: Runtime, workspace: FakeSlack) -> SignedClient:
    return SignedClient(
        "http://rolecall.test/slack/events",
        SIGNING_SECRET,
        workspace,
        transport=in_process(oauth.endpoint),
    )


def test_an_install_stores_the_bot_and_requests_then_use_its_token(
    oauth: Runtime, fake: FakeSlack, globex: FakeSlack
) -> None:
    exchange = [c for c in fake.calls if c.method == "oauth.v2.access"]
    assert len(exchange) == 1
    with signed(oauth, globex) as slack:
        command(slack, globex, "/role", f"<@{ALICE}|alice> product", ALICE)
        command(slack, globex, "/feedback", "Bulk export", CAROL)
    assert [c["text"] for c in cards(globex, ALICE)] != []
    assert globex.calls_to("chat.postMessage")  # posted with Globex's token, to Globex
    assert fake.calls_to("chat.postMessage") == []
    assert oauth.tenants.workspaces.active() == ["T0002"]


def test_a_code_used_twice_or_a_forged_state_installs_nothing(
    oauth: Runtime, fake: FakeSlack, web: httpx.Client
) -> None:
    workspace = fake.add_workspace("T0009")
    forged = web.get(
        "/slack/oauth_redirect", params={"code": fake.install_code(workspace), "state": "forged"}
    )
    assert forged.status_code == 400
    assert oauth.tenants.workspaces.active() == []
    assert [c for c in fake.calls if c.method == "oauth.v2.access"] == []


def test_two_workspaces_with_the_same_ids_never_see_each_others_items(
    oauth: Runtime,
    acme: FakeSlack,
    globex: FakeSlack,
    clock: FixedClock,
    statements: list[str],
) -> None:
    with signed(oauth, acme) as in_acme, signed(oauth, globex) as in_globex:
        command(in_acme, acme, "/role", f"<@{ALICE}|alice> product", ALICE)
        command(in_acme, acme, "/role", f"<@{BOB}|bob> project", ALICE)
        command(in_globex, globex, "/role", f"<@{BOB}|bob> product", BOB)
        command(in_acme, acme, "/feedback", "Acme's secret roadmap idea", CAROL)
        command(in_globex, globex, "/feedback", "Globex wants dark mode", CAROL)
        due = (clock.now + timedelta(days=1)).date()
        command(in_acme, acme, "/milestone", f"add Acme beta {due}", BOB)

        # Cards: each product manager sees only their own workspace's item.
        [acme_card] = cards(acme, ALICE)
        [globex_card] = cards(globex, BOB)
        assert "Acme's secret" in acme_card["text"] and "Globex" not in acme_card["text"]
        assert "dark mode" in globex_card["text"] and "Acme" not in globex_card["text"]
        assert cards(globex, ALICE) == [] and cards(acme, BOB) == []

        # Lists and the digest preview: the same channel id, a different team.
        listed = command(in_globex, globex, "/feedback", "list", BOB)
        assert "dark mode" in listed and "Acme" not in listed
        preview = command(in_globex, globex, "/digest", "", BOB)
        assert "Acme" not in preview
        roles = command(in_globex, globex, "/role", "", CAROL)
        assert "bob" in roles and "alice" not in roles

        # A button carrying Acme's item id, pressed in Globex, touches nothing.
        in_globex.click(
            BOB, globex.dm_channel(BOB), globex_card["ts"], "item_decline", item_id(acme_card)
        )
        assert any("no longer exists" in e for e in ephemerals(globex, BOB))
        assert "Declined" not in str(cards(acme, ALICE)[0]["blocks"])

        # App Home: Globex's Bob holds no role in Acme.
        in_globex.event({"type": "app_home_opened", "user": BOB, "tab": "home"})
        home = str(globex.home_views[BOB])
        assert "• product manager in <#CLAUNCH>" in home
        assert "• project manager in" not in home
        assert acme.home_views == {}

    # Nudges: Acme's milestone is nudged in Acme's channel only, with Acme's token.
    clock.now += timedelta(hours=2)
    oauth.tenants.tick(clock.now)
    assert any("Acme beta" in n for n in nudges(acme))
    assert nudges(globex) == []

    # Beneath it all: every statement on a workspace's tables names the workspace.
    assert len(statements) > 100
    leaks = {s: unscoped(s) for s in statements if not ACROSS_WORKSPACES.search(s)}
    assert {s: tables for s, tables in leaks.items() if tables} == {}


def test_an_uninstalled_workspace_goes_quiet_its_data_kept_then_purged(
    oauth: Runtime,
    fake: FakeSlack,
    acme: FakeSlack,
    globex: FakeSlack,
    web: httpx.Client,
    database_url: str,
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with signed(oauth, acme) as in_acme, signed(oauth, globex) as in_globex:
        for slack, workspace in ((in_acme, acme), (in_globex, globex)):
            command(slack, workspace, "/role", f"<@{ALICE}|alice> product", ALICE)
            command(slack, workspace, "/feedback", "Keep me", CAROL)
        # Rows in every later table too: a holiday, time away, a theme, a Home shown.
        command(in_globex, globex, "/rolecall", "holiday add 2027-01-04 Retreat", ALICE)
        command(in_globex, globex, "/rolecall", "away 2027-01-05 2027-01-06", ALICE)
        command(in_globex, globex, "/roadmap", 'add "Onboarding" 2027-Q2', ALICE)
        in_globex.event({"type": "app_home_opened", "user": ALICE, "tab": "home"})
        assert in_globex.event({"type": "app_uninstalled"}).status_code == 200

    assert oauth.tenants.workspaces.active() == ["T0001"]
    assert oauth.domain.tokens is not None
    assert oauth.domain.tokens.installations.bot_of("T0002", None) is None  # its token is dead
    clock.now += timedelta(days=1)
    oauth.tenants.tick(clock.now)
    assert len(globex.calls_to("chat.postMessage")) == 1  # only the card before the uninstall

    monkeypatch.setenv("DATABASE_URL", database_url)
    assert main(["purge", "--team", "T0001"]) == 2  # still installed: refused
    assert main(["purge", "--team", "T0002"]) == 0
    assert "purged T0002" in capsys.readouterr().out
    with oauth.tenants.db.engine.connect() as connection:
        left = connection.execute(text("SELECT DISTINCT workspace_id FROM item")).scalars()
        assert list(left) == ["T0001"]
        for table in ("holiday", "away", "theme", "home_view", "role_assignment", "workspace"):
            count = f"SELECT count(*) FROM {table} WHERE workspace_id = 'T0002'"
            assert connection.execute(text(count)).scalar() == 0, table

    # Reinstalled: a fresh start, with Acme untouched throughout.
    assert install(web, fake, globex).status_code == 200
    assert sorted(oauth.tenants.workspaces.active()) == ["T0001", "T0002"]
    with signed(oauth, globex) as in_globex:
        listed = command(in_globex, globex, "/feedback", "list", ALICE)
    assert "Keep me" not in listed


def test_an_uninstall_drops_the_home_refreshes_its_old_services_still_owed(
    oauth: Runtime, acme: FakeSlack, clock: FixedClock
) -> None:
    with signed(oauth, acme) as slack:
        command(slack, acme, "/role", f"<@{ALICE}|alice> product", ALICE)
        slack.event({"type": "app_home_opened", "user": ALICE, "tab": "home"})
        assert len(acme.calls_to("views.publish")) == 1
        before = oauth.tenants.get("T0001")
        assert slack.event({"type": "app_uninstalled"}).status_code == 200

    clock.now += timedelta(minutes=1)
    before.home.refresh_soon({ALICE})  # a change it handled just before

    assert len(acme.calls_to("views.publish")) == 1  # nothing sent with the dead token


def test_an_organization_installed_org_wide_is_one_set_of_rows(
    oauth: Runtime, fake: FakeSlack, web: httpx.Client
) -> None:
    org = _populate(fake.add_workspace("T0100", enterprise_id="E0001", is_enterprise_install=True))
    assert install(web, fake, org).status_code == 200
    assert oauth.tenants.workspaces.active() == ["E0001"]
    with signed(oauth, org) as slack:
        command(slack, org, "/role", f"<@{ALICE}|alice> product", ALICE)
        command(slack, org, "/feedback", "Grid-wide SSO", CAROL)
    assert "Grid-wide SSO" in dm_texts(org, ALICE)[-1]
    with oauth.tenants.db.engine.connect() as connection:
        stored = connection.execute(text("SELECT workspace_id FROM item")).scalars()
        assert list(stored) == ["E0001"]


def test_purging_needs_no_slack_and_says_what_it_did(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    assert main(["migrate"]) == 0
    assert main(["purge", "--team", "T0404"]) == 0
    assert "purged T0404: 0 rows deleted" in capsys.readouterr().out


# Edge cases a red-team review found -----------------------------------------------------


def _settings(fake: FakeSlack, database_url: str) -> Settings:
    return Settings(
        slack_client_id=FakeSlack.CLIENT_ID,
        slack_client_secret=FakeSlack.CLIENT_SECRET,
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=fake.api_url,
        database_url=database_url,
    )


@pytest.fixture
def replica(fake: FakeSlack, database_url: str, clock: FixedClock) -> Iterator[Runtime]:
    """A second replica on the same database (compose runs two behind nginx)."""
    runtime = build_runtime(_settings(fake, database_url), clock, inline=True, sleep=lambda _: None)
    yield runtime
    runtime.close()


def _event_envelope(
    workspace: FakeSlack, event: dict[str, Any], event_id: str, **extra: Any
) -> dict[str, Any]:
    return {
        "token": "legacy-verification-token",
        "team_id": workspace.team_id,
        "api_app_id": "AROLECALL",
        "event": event,
        "type": "event_callback",
        "event_id": event_id,
        "event_time": int(time.time()),
        "authorizations": [
            {
                "enterprise_id": workspace.enterprise_id,
                "team_id": None if workspace.is_enterprise_install else workspace.team_id,
                "user_id": workspace.bot_user_id,
                "is_bot": True,
                "is_enterprise_install": workspace.is_enterprise_install,
            }
        ],
        **extra,
    }


# 1. An uninstalled workspace is brought back to life by a replica's stale token cache ----------


def test_an_event_reaching_a_replica_with_a_cached_token_does_not_revive_an_uninstall(
    oauth: Runtime, replica: Runtime, fake: FakeSlack, acme: FakeSlack, clock: FixedClock
) -> None:
    with signed(replica, acme) as on_replica:
        command(on_replica, acme, "/role", f"<@{ALICE}|alice> product", ALICE)  # caches token
    with signed(oauth, acme) as on_first:
        assert on_first.event({"type": "app_uninstalled"}).status_code == 200
    assert oauth.tenants.workspaces.active() == []
    clock.now += timedelta(seconds=31)  # the replica re-reads who is uninstalled
    with signed(replica, acme) as on_replica:
        # A message posted just before the uninstall, delivered just after (not a retry).
        on_replica.say(TEAM, CAROL, "see you all tomorrow")
    assert oauth.tenants.workspaces.active() == [], "the uninstalled workspace was revived"
    # ... and so its data is never purged.
    clock.now += timedelta(days=31)
    oauth.housekeeping()
    with oauth.tenants.db.engine.connect() as connection:
        left = connection.execute(text("SELECT count(*) FROM role_assignment")).scalar_one()
    assert left == 0, "an uninstalled workspace's data outlived its keeping period"


# 3. OAuth redirect: Slack slow or the database down → an unhandled exception (a 500) ----------


def _redirect_query(
    web: httpx.Client, fake: FakeSlack, workspace: FakeSlack
) -> tuple[str, dict[str, str]]:
    page = web.get("/slack/install")
    found = re.search(r'href="(https://slack.com/oauth/v2/authorize[^"]+)"', page.text)
    assert found is not None
    state = parse_qs(urlparse(html.unescape(found[1])).query)["state"][0]
    cookie = page.headers["set-cookie"].split(";")[0]
    query = urlencode({"code": fake.install_code(workspace), "state": state})
    return query, {"cookie": cookie}


def test_an_install_whose_code_exchange_times_out_gets_an_error_page_not_a_500(
    oauth: Runtime, fake: FakeSlack, web: httpx.Client
) -> None:
    workspace = _populate(fake.add_workspace("T0002"))
    query, headers = _redirect_query(web, fake, workspace)
    flow = oauth.app.oauth_flow
    assert flow is not None
    flow.client.timeout = 0.2  # type: ignore[assignment]  # (10 s in production) Slack is slower
    gate = fake.hold("oauth.v2.access")
    try:
        reply = oauth.endpoint.handle("GET", "/slack/oauth_redirect", query, headers, b"")
    except Exception as error:  # noqa: BLE001  what uvicorn turns into a 500 and a traceback
        pytest.fail(f"the OAuth redirect raised {error!r}: the installer gets a 500")
    finally:
        gate.set()
    assert reply.status == 503 and b"try again" in reply.body and b"Traceback" not in reply.body


def test_an_install_while_the_database_is_down_gets_an_error_page_not_a_500(
    oauth: Runtime, fake: FakeSlack, web: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    workspace = _populate(fake.add_workspace("T0002"))
    query, headers = _redirect_query(web, fake, workspace)
    assert oauth.domain.tokens is not None

    def down(*_: object, **__: object) -> None:
        raise OperationalError("INSERT INTO slack_bots", {}, Exception("database is locked"))

    monkeypatch.setattr(oauth.domain.tokens.installations, "save", down)
    try:
        reply = oauth.endpoint.handle("GET", "/slack/oauth_redirect", query, headers, b"")
    except Exception as error:  # noqa: BLE001  what uvicorn turns into a 500 and a traceback
        pytest.fail(f"the OAuth redirect raised {error!r}: the installer gets a 500")
    assert reply.status == 503 and b"try again" in reply.body and b"Traceback" not in reply.body


# 4. Every anonymous GET /slack/install writes a state row that is never cleaned up ------------


def test_install_page_states_that_were_never_used_are_cleaned_up(
    oauth: Runtime, web: httpx.Client, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    flow = oauth.app.oauth_flow
    assert flow is not None
    flow.settings.state_store.expiration_seconds = -1  # type: ignore[attr-defined]  # (600 s)
    for _ in range(50):  # anyone on the internet, no signature needed
        assert web.get("/slack/install").status_code == 200
    # Every state has expired; a day later housekeeping has run.
    clock.now += timedelta(days=1)
    oauth.housekeeping()
    with oauth.tenants.db.engine.connect() as connection:
        kept = connection.execute(text("SELECT count(*) FROM slack_oauth_states")).scalar_one()
    assert kept == 0, f"{kept} expired OAuth states are kept forever"


# 5. `rolecall purge --force` of an installed workspace: it keeps working, its schedule stops --


def test_a_workspace_purged_by_force_while_installed_still_gets_its_scheduled_posts(
    oauth: Runtime,
    acme: FakeSlack,
    database_url: str,
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    assert main(["purge", "--team", "T0001", "--force"]) == 0
    # Still installed (its token kept): people carry on from a fresh start ...
    with signed(oauth, acme) as slack:
        command(slack, acme, "/role", f"<@{BOB}|bob> project", BOB)
        due = (clock.now + timedelta(days=1)).date()
        reply = command(slack, acme, "/milestone", f"add Beta {due}", BOB)
        assert "Beta" in reply
    # ... but the time loop never runs for it again: no nudge, no digest, no card retry.
    clock.now += timedelta(hours=2)
    oauth.tenants.tick(clock.now)
    assert any("Beta" in n for n in nudges(acme)), (
        f"active workspaces: {oauth.tenants.workspaces.active()}"
    )


# 6. A late delivery of an uninstall from before a reinstall kills the new installation --------


def test_an_uninstall_retried_after_a_reinstall_leaves_the_new_installation_alone(
    oauth: Runtime, fake: FakeSlack, web: httpx.Client, globex: FakeSlack
) -> None:
    uninstalled_at = int(time.time()) - 120
    # 2 minutes ago an admin removed the app; our answer to that event never reached Slack.
    # Then they installed it again (new scopes, say): a fresh installation.
    assert install(web, fake, globex).status_code == 200
    assert oauth.tenants.workspaces.active() == ["T0002"]
    # Slack retries the old event (1 min, 5 min later) ...
    body = _event_envelope(globex, {"type": "app_uninstalled"}, "Ev0UNINSTALL")
    body["event_time"] = uninstalled_at
    with signed(oauth, globex) as slack:
        retried = {"X-Slack-Retry-Num": "2", "X-Slack-Retry-Reason": "http_error"}
        assert slack.post(json.dumps(body), "application/json", retried).status_code == 200
    # ... and the installation made after it is deleted and the workspace silenced.
    assert oauth.tenants.workspaces.active() == ["T0002"]
    assert oauth.domain.tokens is not None
    assert oauth.domain.tokens.installations.bot_of("T0002", None) is not None


# 7. Single-token upgrade while Slack is unreachable: told to set the token that is set --------


def test_upgrading_while_slack_is_unreachable_says_what_is_actually_wrong(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _single_workspace_database(str(tmp_path)).dispose()
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/single.db")
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-the-token")
    monkeypatch.setenv("SLACK_API_URL", "http://127.0.0.1:9/api/")  # Slack is unreachable
    monkeypatch.delenv("SLACK_CLIENT_ID", raising=False)
    assert main(["migrate"]) == 2
    said = capsys.readouterr().err
    assert "start Rolecall once with SLACK_BOT_TOKEN set" not in said, said


# 8. The time loop runs workspaces one after another: one slow workspace holds up all others ---


def test_a_workspace_whose_slack_is_slow_does_not_hold_up_another_workspaces_nudges(
    oauth: Runtime,
    acme: FakeSlack,
    globex: FakeSlack,
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    due = (clock.now + timedelta(days=1)).date()
    for workspace in (acme, globex):
        with signed(oauth, workspace) as slack:
            command(slack, workspace, "/milestone", f"add Beta {due}", BOB)
    acme_client = oauth.tenants.get("T0001").client
    globex_client = oauth.tenants.get("T0002").client
    globex_posted = threading.Event()
    acme_waited_for_nothing: list[bool] = []
    slow, fast = acme_client.chat_postMessage, globex_client.chat_postMessage

    def acme_post(**kwargs: Any) -> Any:
        # Acme's Slack is slow (timeouts, 429 Retry-After waits, many channels to pace):
        # meanwhile, does Globex's nudge go out?
        acme_waited_for_nothing.append(globex_posted.wait(timeout=3))
        return slow(**kwargs)

    def globex_post(**kwargs: Any) -> Any:
        response = fast(**kwargs)
        globex_posted.set()
        return response

    monkeypatch.setattr(acme_client, "chat_postMessage", acme_post)
    monkeypatch.setattr(globex_client, "chat_postMessage", globex_post)
    clock.now += timedelta(hours=2)
    oauth.tenants.tick(clock.now)
    assert nudges(acme) and nudges(globex)
    assert acme_waited_for_nothing[0], "Globex's nudges waited for all of Acme's Slack calls"


def test_the_time_loop_rests_between_workspaces_so_acks_keep_the_interpreter(
    oauth: Runtime,
    acme: FakeSlack,
    globex: FakeSlack,
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Planning costs CPU under the one interpreter lock even when nothing is due; with 100
    workspaces in one burst it held acks for seconds (bench/workspaces.py). A worker rests
    before its next workspace in proportion to the CPU the last one used, so all of them
    together take at most their share; never after its last."""
    rests: list[float] = []
    oauth.tenants.sleep = rests.append
    monkeypatch.setattr(services_module, "TICK_WORKSPACES", 1)  # one worker, both workspaces
    oauth.tenants.tick(clock.now)
    waited = [rest for rest in rests if rest > 0]
    assert len(waited) == 1 and waited[0] <= MAX_TICK_REST

    cpu = 0.014  # one workspace with nothing due, as measured
    rest = Tenants.pause_after(cpu)
    assert 1 * cpu / (cpu + rest) == pytest.approx(TICK_CPU_SHARE)
    assert Tenants.pause_after(5.0) == MAX_TICK_REST


def test_one_workspace_never_waits_for_its_own_time_loop(
    runtime: Runtime, clock: FixedClock
) -> None:
    rests: list[float] = []
    runtime.tenants.sleep = rests.append
    runtime.tenants.tick(clock.now)
    assert [rest for rest in rests if rest > 0] == []

"""Many workspaces through one server: Slack's OAuth install, each request and each scheduled
post with its own workspace's token, and nothing of one workspace reaching another (the two
below share channel and user ids on purpose)."""

import html
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from sqlalchemy import event, text

from handlers.cli import main
from handlers.runtime import Runtime, build_runtime
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

    # Reinstalled: a fresh start, with Acme untouched throughout.
    assert install(web, fake, globex).status_code == 200
    assert sorted(oauth.tenants.workspaces.active()) == ["T0001", "T0002"]
    with signed(oauth, globex) as in_globex:
        listed = command(in_globex, globex, "/feedback", "list", ALICE)
    assert "Keep me" not in listed


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

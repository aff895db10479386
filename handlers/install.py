"""Installs by many workspaces: Slack's OAuth v2 flow (Bolt's), each request authorized with
its own workspace's bot token, and what an install or an uninstall changes.

With only SLACK_BOT_TOKEN set none of this runs: that token's workspace is the only one.
"""

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from slack_bolt import BoltContext, BoltResponse
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.authorization.authorize import Authorize
from slack_bolt.oauth.callback_options import CallbackOptions, FailureArgs, SuccessArgs
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk.oauth.installation_store import Bot

from bot.workspaces import Workspaces
from storage.installations import Installations, state_store
from storage.workspaces import WorkspaceStore

log = logging.getLogger(__name__)

# The bot scopes of manifest.yml (a test keeps the two equal).
BOT_SCOPES = (
    "app_mentions:read",
    "channels:history",
    "channels:read",
    "groups:history",
    "groups:read",
    "im:history",
    "im:write",
    "chat:write",
    "commands",
    "files:write",
    "reactions:read",
    "users:read",
)
TOKEN_CACHE_SECONDS = 60.0  # how long a replica may use a token another replica replaced


def workspace_of(
    enterprise_id: str | None, team_id: str | None, is_enterprise_install: bool
) -> str | None:
    """Whose rows a request touches: the organization's for an org-wide install (its
    workspaces share channels and people), else the workspace's."""
    return enterprise_id if is_enterprise_install else team_id


@dataclass
class _Cached:
    bot: Bot | None
    read_at: float


class BotTokens:
    """Each workspace's bot installation, read from the installation store and kept for a
    minute: requests and scheduled runs do not query it every time."""

    def __init__(
        self,
        installations: Installations,
        workspaces: WorkspaceStore,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.installations = installations
        self.workspaces = workspaces
        self.monotonic = monotonic
        self._cache: dict[str, _Cached] = {}
        self._lock = threading.Lock()

    def bot(self, workspace_id: str, enterprise_id: str | None = None) -> Bot | None:
        now = self.monotonic()
        with self._lock:
            cached = self._cache.get(workspace_id)
        if cached is not None and now - cached.read_at < TOKEN_CACHE_SECONDS:
            return cached.bot
        if enterprise_id is None and not workspace_id.startswith("E"):
            row = self.workspaces.get(workspace_id)
            enterprise_id = row.enterprise_id if row is not None else None
        bot = self.installations.bot_of(workspace_id, enterprise_id)
        with self._lock:
            self._cache[workspace_id] = _Cached(bot, now)
        return bot

    def token(self, workspace_id: str) -> str | None:
        bot = self.bot(workspace_id)
        return bot.bot_token if bot is not None else None

    def forget(self, workspace_id: str) -> None:
        with self._lock:
            self._cache.pop(workspace_id, None)


class TenantAuthorize(Authorize):
    """Bolt's authorization for a request: the bot of the workspace it came from, with no
    `auth.test` call (the install stored the bot's ids)."""

    def __init__(self, tokens: BotTokens) -> None:
        self.tokens = tokens

    def __call__(
        self,
        *,
        context: BoltContext,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None,
        actor_enterprise_id: str | None = None,
        actor_team_id: str | None = None,
        actor_user_id: str | None = None,
    ) -> AuthorizeResult | None:
        workspace_id = workspace_of(
            enterprise_id, team_id, bool(context.get("is_enterprise_install"))
        )
        bot = self.tokens.bot(workspace_id, enterprise_id) if workspace_id else None
        if bot is None:
            return None
        return AuthorizeResult(
            enterprise_id=enterprise_id,
            team_id=team_id,
            bot_token=bot.bot_token,
            bot_id=bot.bot_id,
            bot_user_id=bot.bot_user_id,
            bot_scopes=bot.bot_scopes,
        )


def oauth_settings(
    client_id: str,
    client_secret: str,
    installations: Installations,
    on_installed: Callable[[str, str | None, str | None], None],
) -> OAuthSettings:
    """Bolt's OAuth flow: `GET /slack/install` shows the "Add to Slack" page, `GET
    /slack/oauth_redirect` stores the installation, then calls `on_installed(workspace_id,
    team_id, enterprise_id)` before Slack's default success page."""

    def success(args: SuccessArgs) -> BoltResponse:
        installation = args.installation
        workspace_id = workspace_of(
            installation.enterprise_id,
            installation.team_id,
            bool(installation.is_enterprise_install),
        )
        if workspace_id is None:
            return args.default.failure(
                FailureArgs(
                    request=args.request,
                    reason="no workspace in the installation",
                    suggested_status_code=400,
                    settings=args.settings,
                    default=args.default,
                )
            )
        on_installed(workspace_id, installation.team_id, installation.enterprise_id)
        return args.default.success(args)

    def failure(args: FailureArgs) -> BoltResponse:
        log.warning("an install failed: %s", args.reason)
        return args.default.failure(args)

    return OAuthSettings(
        client_id=client_id,
        client_secret=client_secret,
        scopes=list(BOT_SCOPES),
        installation_store=installations,
        installation_store_bot_only=True,
        state_store=state_store(installations.engine),
        callback_options=CallbackOptions(success=success, failure=failure),
    )


class Installs:
    """What an install and an uninstall change: the workspace's state, its cached token."""

    def __init__(
        self,
        workspaces: Workspaces,
        tokens: BotTokens | None,
        forget_services: Callable[[str], None],
    ) -> None:
        self.workspaces = workspaces
        self.tokens = tokens
        self.forget_services = forget_services

    def installed(self, workspace_id: str, team_id: str | None, enterprise_id: str | None) -> None:
        self.workspaces.installed(workspace_id, team_id, enterprise_id)
        self._forget(workspace_id)

    def uninstalled(self, workspace_id: str, reason: str, sent_at: datetime) -> None:
        """Nothing is posted there any more; with OAuth its tokens (dead now) are deleted. An
        uninstall Slack sent before the workspace's latest install (a retry delivered late)
        changes nothing."""
        if self.tokens is not None:
            row = self.workspaces.store.get(workspace_id)
            enterprise_id = row.enterprise_id if row else None
            bot = self.tokens.installations.bot_of(workspace_id, enterprise_id)
            # Slack's event_time is in whole seconds: an install a second or more after it
            if bot is not None and bot.installed_at >= sent_at.timestamp() + 1:
                log.info("workspace %s: an uninstall sent before its install", workspace_id)
                return
            self.tokens.installations.remove(workspace_id, enterprise_id)
        self.workspaces.uninstalled(workspace_id, reason)
        self._forget(workspace_id)

    def _forget(self, workspace_id: str) -> None:
        if self.tokens is not None:
            self.tokens.forget(workspace_id)
        self.forget_services(workspace_id)

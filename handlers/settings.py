"""Settings from the environment, read once at start."""

from typing import Literal

from pydantic import SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class ConfigError(RuntimeError):
    """A setting is missing or wrong; the message is one line meant for the operator."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore")

    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_client_id: SecretStr | None = None  # with the secret: installs by many workspaces
    slack_client_secret: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"
    database_url: str = "sqlite:///rolecall.db"
    port: int = 3000
    ack_budget: float = 2.0  # seconds a request may spend storing before it acks anyway
    slack_timeout: float = 10.0  # seconds a Web API call may take before it counts as lost
    log_format: Literal["text", "json"] = "text"  # json: one object per line, for a pipeline
    # Webhooks may reach loopback and private addresses over plain http: for local tests only
    # (an endpoint inside the network would let whoever adds one probe it).
    webhooks_allow_private: bool = False

    @field_validator("slack_api_url")
    @classmethod
    def _trailing_slash(cls, value: str) -> str:
        """slack-sdk joins method names with urljoin, which drops a last segment without '/'."""
        return value if value.endswith("/") else value + "/"

    @property
    def oauth_enabled(self) -> bool:
        """Whether workspaces install the app (OAuth) rather than one bot token serving one."""
        return self.slack_client_id is not None and self.slack_client_secret is not None

    def require(self, *names: str) -> None:
        missing = [name.upper() for name in names if not getattr(self, name)]
        if missing:
            raise ConfigError(f"missing required setting(s): {', '.join(missing)}")

    def secret(self, name: str) -> str:
        value = getattr(self, name)
        if value is None:
            raise ConfigError(f"missing required setting: {name.upper()}")
        secret: str = value.get_secret_value()
        return secret

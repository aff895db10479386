"""Where OAuth installs are kept: slack-sdk's SQLAlchemy stores, in Rolecall's database.

Bot tokens are stored as slack-sdk stores them (this database is as secret as the tokens);
they are never logged.
"""

from datetime import datetime

from slack_sdk.oauth.installation_store import Bot
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.sqlalchemy_utils import normalize_datetime_for_db
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import Engine, MetaData

STATE_SECONDS = 600  # how long an "Add to Slack" link stays usable


def define_tables(metadata: MetaData) -> None:
    """Declare slack-sdk's tables on `metadata` (the models' own, and the migration's)."""
    SQLAlchemyInstallationStore.build_installations_table(
        metadata, SQLAlchemyInstallationStore.default_installations_table_name
    )
    SQLAlchemyInstallationStore.build_bots_table(
        metadata, SQLAlchemyInstallationStore.default_bots_table_name
    )
    SQLAlchemyOAuthStateStore.build_oauth_states_table(
        metadata, SQLAlchemyOAuthStateStore.default_table_name
    )


class Installations(SQLAlchemyInstallationStore):
    """slack-sdk's installation store, plus the lookup by Rolecall's workspace id."""

    def __init__(self, client_id: str, engine: Engine) -> None:
        super().__init__(client_id=client_id, engine=engine)

    def bot_of(self, workspace_id: str, enterprise_id: str | None) -> Bot | None:
        """The newest bot installation of a workspace (`T…`, in `enterprise_id`'s
        organization if any) or of an organization installed org-wide (`E…`)."""
        if workspace_id.startswith("E"):
            return self.find_bot(
                enterprise_id=workspace_id, team_id=None, is_enterprise_install=True
            )
        return self.find_bot(enterprise_id=enterprise_id, team_id=workspace_id)

    def remove(self, workspace_id: str, enterprise_id: str | None) -> None:
        """Forget a workspace's tokens (uninstalled, or revoked: they no longer work)."""
        if workspace_id.startswith("E"):
            enterprise_id, team_id = workspace_id, None
        else:
            team_id = workspace_id
        self.delete_bot(enterprise_id=enterprise_id, team_id=team_id)
        self.delete_installation(enterprise_id=enterprise_id, team_id=team_id)


def state_store(engine: Engine) -> SQLAlchemyOAuthStateStore:
    return SQLAlchemyOAuthStateStore(expiration_seconds=STATE_SECONDS, engine=engine)


def forget_expired_states(engine: Engine, now: datetime) -> int:
    """Delete "Add to Slack" states nobody came back with: anyone may open the install page,
    and slack-sdk deletes a state only when it is used. Returns how many went."""
    table = state_store(engine).oauth_states
    expired = table.delete().where(table.c.expire_at < normalize_datetime_for_db(now))
    with engine.begin() as connection:
        return int(connection.execute(expired).rowcount)

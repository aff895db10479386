"""/rolecall and `/digest schedule`: a team's routing reactions, queue channels, time zone,
escalation threshold and digest time."""

from bot.blocks.lists import schedule_summary, settings_summary
from bot.parsing.planning import ScheduleDigest
from bot.parsing.team import (
    SetEmoji,
    SetEscalation,
    SetQueueChannel,
    SetTimezone,
    SettingsCommand,
    ShowSettings,
)
from bot.parsing.words import UsageError
from bot.permissions import Permissions
from storage.models import ItemKind, Role
from storage.teams import TeamStore


class TeamSettingsCommands:
    def __init__(self, teams: TeamStore, permissions: Permissions) -> None:
        self.teams = teams
        self.permissions = permissions

    def run(self, channel_id: str, actor_id: str, command: SettingsCommand) -> str:
        settings = self.teams.settings(channel_id)
        if isinstance(command, ShowSettings):
            return settings_summary(settings)
        self.permissions.require_team_manager(channel_id, actor_id, "change its settings")
        if isinstance(command, SetEmoji):
            feedback = command.kind is ItemKind.FEEDBACK
            other = settings.blocker_emoji if feedback else settings.feedback_emoji
            if command.emoji == other:
                raise UsageError(f":{other}: already routes the other kind of item.")
            if feedback:
                settings.feedback_emoji = command.emoji
            else:
                settings.blocker_emoji = command.emoji
        elif isinstance(command, SetQueueChannel):
            if command.role is Role.PRODUCT:
                settings.product_queue_channel = command.channel_id
            else:
                settings.project_queue_channel = command.channel_id
        elif isinstance(command, SetTimezone):
            settings.timezone = command.timezone
        elif isinstance(command, SetEscalation):
            settings.escalation_hours = command.hours
        self.teams.save_settings(settings)
        reply = settings_summary(settings)
        if isinstance(command, SetQueueChannel) and command.channel_id:
            reply += f"\nMake sure I'm a member of <#{command.channel_id}> (`/invite @Rolecall`)."
        return reply

    def schedule_digest(self, channel_id: str, actor_id: str, command: ScheduleDigest) -> str:
        self.permissions.require_team_manager(channel_id, actor_id, "change its digest")
        settings = self.teams.settings(channel_id)
        settings.digest_weekday = command.weekday
        settings.digest_hour, settings.digest_minute = command.wall.hour, command.wall.minute
        if command.timezone:
            settings.timezone = command.timezone
        self.teams.save_settings(settings)
        return schedule_summary(settings)

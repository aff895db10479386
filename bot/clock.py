"""Time as the domain sees it: injected, so tests and `rolecall tick --at` choose the instant."""

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def as_utc(at: datetime) -> datetime:
    """A stored time with its zone: SQLite gives times back naive, and every time Rolecall
    stores is UTC."""
    return at if at.tzinfo else at.replace(tzinfo=UTC)

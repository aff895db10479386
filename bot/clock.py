"""Time as the domain sees it: injected, so tests and `rolecall tick --at` choose the instant."""

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)

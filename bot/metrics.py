"""Every Prometheus metric Rolecall keeps, in the default registry that `GET /metrics` serves.

Labels are small fixed sets (kinds, outcomes, entry points, Slack method names): never a team,
channel, user or item id, so the number of series stays bounded however many workspaces call.
"""

import logging
from collections.abc import Callable, Iterable

from prometheus_client import Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from sqlalchemy.exc import SQLAlchemyError

log = logging.getLogger(__name__)

# Slack retries a request it had no answer to within 3 s; most acks take milliseconds.
ACK_BUCKETS = (0.005, 0.01, 0.02, 0.035, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 1, 2, 3, 5)
# Scheduled posts run every minute and are paced to a channel: late by seconds to minutes, and
# by hours after downtime.
LAG_BUCKETS = (1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 4 * 3600, 24 * 3600)
TICK_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)

REQUESTS = Counter(
    "rolecall_requests",
    "Requests to Slack's Request URL, by kind (command, event, action, …; unknown when refused "
    "before the body was read) and outcome (ok, refused, bad_signature, error).",
    ["kind", "outcome"],
)
ACK_SECONDS = Histogram(
    "rolecall_ack_seconds",
    "Seconds from reading a signed request to its response being ready (Slack waits 3).",
    ["kind"],
    buckets=ACK_BUCKETS,
)
ITEMS_FILED = Counter(
    "rolecall_items_filed",
    "Feedback and blockers raised, by kind, entry point (command, reaction, message, mention, "
    "modal) and outcome (new, vote: a +1 on one queued, duplicate: queued, not counted again, "
    "replay: the same request again).",
    ["kind", "entry_point", "outcome"],
)
OUTBOX_SENDS = Counter(
    "rolecall_outbox_sends",
    "Keyed sends through the outbox, by kind (card, notice, reminder, digest, webhook) and "
    "outcome (posted, found_earlier, failed, deferred, skipped: another runner has it or it was "
    "sent, queued: the workspace uninstalled us, dead: a webhook delivery given up).",
    ["kind", "outcome"],
)
SLACK_RATE_LIMITED = Counter(
    "rolecall_slack_rate_limited",
    "Web API responses that were 429 (rate limited), by method.",
    ["method"],
)
SLACK_RETRIES = Counter(
    "rolecall_slack_retries",
    "Web API calls made again, by reason (rate_limited, connection_error, server_error; "
    "lost_post: the outbox looked for a post whose response was lost, then posted again).",
    ["reason"],
)
SCHEDULE_LAG = Histogram(
    "rolecall_schedule_lag_seconds",
    "Seconds from when a scheduled post (reminder, digest) was due to when it was posted: the "
    "earliest due of the sends in the message.",
    ["kind"],
    buckets=LAG_BUCKETS,
)
TICK_SECONDS = Histogram(
    "rolecall_tick_seconds",
    "Seconds one workspace's run of the time loop took (planning and posting).",
    buckets=TICK_BUCKETS,
)

OpenCounts = Callable[[], dict[tuple[str, str], int]]


class OpenItems:
    """`rolecall_open_items{kind, status}`, counted from the database at scrape time, so every
    worker and replica reports the same truth. `open_counts` maps (kind, status) to a count.

    A database that cannot answer costs the scrape only this gauge: it is logged and left out
    (alert on its absence), and every other metric is still served."""

    NAME = "rolecall_open_items"
    HELP = "Items not yet closed, per queue (kind) and status."

    def __init__(self, open_counts: OpenCounts) -> None:
        self._open_counts = open_counts

    def describe(self) -> Iterable[Metric]:
        """Names for the registry without a query at registration."""
        return [self._family()]

    def collect(self) -> Iterable[Metric]:
        family = self._family()
        try:
            counts = self._open_counts()
        except SQLAlchemyError as error:
            log.warning("open items not counted for /metrics: %s", type(error).__name__)
            return []
        for (kind, status), count in sorted(counts.items()):
            family.add_metric([kind, status], count)
        return [family]

    def _family(self) -> GaugeMetricFamily:
        return GaugeMetricFamily(self.NAME, self.HELP, labels=["kind", "status"])

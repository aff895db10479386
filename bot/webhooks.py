"""Outbound webhooks: events signed per Standard Webhooks (https://www.standardwebhooks.com/),
sent only to public internet addresses, and judged retryable or not from the answer.

This module is pure apart from the one POST in `deliver`: storing endpoints, keying attempts and
backing off belong to the outbox. What a receiver needs to know:

- the body is compact JSON: `{"id", "type", "timestamp", "data"}` (see `payload`);
- `webhook-id` names the event for this endpoint and is the same on every retry: deduplicate by it;
- `webhook-timestamp` is the attempt's Unix time in seconds: refuse ones far from your clock;
- `webhook-signature` is `v1,<base64 HMAC-SHA256>` of `{webhook-id}.{webhook-timestamp}.{body}`,
  keyed with the base64-decoded part of the `whsec_…` secret; `verify` checks all of this.
"""

import base64
import binascii
import hashlib
import hmac
import ipaddress
import json
import re
import secrets
import socket
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from http import HTTPStatus
from typing import Any

import httpx

from bot.mrkdwn import safe_mrkdwn

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32  # the spec asks for 24 to 64
USER_AGENT = "Rolecall-Webhooks/1"
TOLERANCE = 300  # seconds a receiver allows between a timestamp and its clock, as the spec's libs
TIMEOUT = httpx.Timeout(10, connect=5)  # a slow receiver is retried later, not waited for
MAX_URL = 500

# Ids go into the signed content and a header: no `.` (it delimits the signed fields, so an id
# with one could shift them) and nothing a header cannot carry.
_MSG_ID = re.compile(r"[A-Za-z0-9_:-]{1,255}")
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_HOST_NAME = re.compile(r"[a-z0-9_-]+(\.[a-z0-9_-]+)*\.?")
# The well-known NAT64 prefix carries an IPv4 address in its last 32 bits; judge that one.
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
# One reason for both "does not resolve" and "resolves inside": two would tell whoever adds a
# webhook which internal names exist.
_NOT_PUBLIC = (
    "That URL must lead to a public internet address: names that do not resolve, and private, "
    "loopback, link-local (cloud metadata), multicast and reserved addresses are refused."
)

AddrInfo = tuple[Any, Any, Any, Any, tuple[Any, ...]]
Resolver = Callable[[str, int], Iterable[AddrInfo]]  # socket.getaddrinfo's shape


class WebhookEvent(StrEnum):
    ITEM_FILED = "item.filed"
    ITEM_STATUS_CHANGED = "item.status_changed"
    MILESTONE_DONE = "milestone.done"
    RISK_FILED = "risk.filed"


_EVENT_NAMES: dict[str, frozenset[WebhookEvent]] = {
    **{event.value: frozenset({event}) for event in WebhookEvent},
    "all": frozenset(WebhookEvent),
    "item": frozenset({WebhookEvent.ITEM_FILED}),
    "status": frozenset({WebhookEvent.ITEM_STATUS_CHANGED}),
    "milestone": frozenset({WebhookEvent.MILESTONE_DONE}),
    "risk": frozenset({WebhookEvent.RISK_FILED}),
}


class UnresolvableHost(ValueError):
    """The host did not resolve: a typo when adding, likely passing when delivering."""


@dataclass(frozen=True)
class Delivery:
    """How one attempt went. `detail` is for logs: status and reason, never secret or body."""

    ok: bool
    status: int | None
    retryable: bool
    detail: str

    @property
    def gone(self) -> bool:
        """410 Gone: the receiver asked to hear no more, so the spec says disable the endpoint
        rather than only dropping this message."""
        return self.status == HTTPStatus.GONE


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` value for one attempt."""
    if not _MSG_ID.fullmatch(msg_id):
        raise ValueError("a webhook id is 1 to 255 of A-Z, a-z, 0-9, `_`, `-`, `:`")
    return "v1," + _signature(_key(secret), msg_id, timestamp, body)


def headers(secret: str, msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, msg_id, timestamp, body),
    }


def verify(
    secret: str, headers: Mapping[str, str], body: bytes, now: datetime, tolerance: int = TOLERANCE
) -> bool:
    """Whether a request is ours, untampered and fresh: any `v1` signature in the space-separated
    header matches (several during a secret rotation) and the timestamp is within `tolerance`
    seconds of `now` either way (a captured request cannot be replayed later).

    `body` must be the raw bytes received: parsing and re-serializing changes them. A malformed
    secret raises ValueError (a configuration error, not a bad request)."""
    key = _key(secret)
    named = {name.lower(): value for name, value in headers.items()}
    msg_id, stamp = named.get("webhook-id", ""), named.get("webhook-timestamp", "")
    if not (_MSG_ID.fullmatch(msg_id) and _TIMESTAMP.fullmatch(stamp)):
        return False
    if abs(_seconds(now) - int(stamp)) > tolerance:
        return False
    expected = _signature(key, msg_id, int(stamp), body).encode()
    for entry in named.get("webhook-signature", "").split():
        version, _, encoded = entry.partition(",")
        if version == "v1" and hmac.compare_digest(encoded.encode(), expected):
            return True
    return False


def payload(
    event: WebhookEvent, data: Mapping[str, Any], msg_id: str, timestamp: datetime
) -> dict[str, Any]:
    """The envelope the spec recommends; `timestamp` is when the event happened (the header
    carries the attempt's time). The id is repeated for receivers that keep only bodies."""
    return {
        "id": msg_id,
        "type": event.value,
        "timestamp": _aware(timestamp).astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "data": dict(data),
    }


def parse_events(words: Iterable[str]) -> set[WebhookEvent]:
    """The events of `/rolecall webhook add <url> [events]`, separated by spaces or commas;
    all of them when none are named."""
    chosen: set[WebhookEvent] = set()
    named = [piece for word in words for piece in word.split(",") if piece]
    for name in named:
        events = _EVENT_NAMES.get(name.lower())
        if events is None:
            valid = ", ".join(f"`{event}`" for event in WebhookEvent)
            raise ValueError(
                f"`{safe_mrkdwn(name, 40)[0]}` is not a webhook event. Choose from {valid}, or "
                "`all` (the default); `item`, `status`, `milestone` and `risk` work too."
            )
        chosen |= events
    return chosen if named else set(WebhookEvent)


def check_url(url: str, *, allow_private: bool, resolve: Resolver = socket.getaddrinfo) -> str:
    """The URL normalised as httpx will request it, or ValueError with the reason to show.

    The checks run on httpx's own parse, so the host judged is the host connected to. Every
    address the host resolves to must be public (SSRF: a webhook must not reach the bot's own
    network or the cloud metadata service). `allow_private` also allows plain http and skips
    the address checks: for local tests only."""
    url = url.strip()
    if len(url) > MAX_URL:
        raise ValueError(f"That URL is too long: keep it under {MAX_URL} characters.")
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        raise ValueError(
            "That is not a URL I can read: use the form `https://example.com/webhook`."
        ) from None
    if parsed.scheme != "https" and not (allow_private and parsed.scheme == "http"):
        raise ValueError("A webhook URL must start with `https://`, so what we send is encrypted.")
    if parsed.userinfo:
        raise ValueError(
            "Leave the `user:password@` part out of the URL: every delivery is signed instead."
        )
    host = parsed.raw_host.decode("ascii")
    literal = _ip(host)
    if not host or (literal is None and not _HOST_NAME.fullmatch(host)):
        raise ValueError("That URL has no host I can use: use the form `https://example.com/…`.")
    normalised = str(parsed.copy_with(fragment=None))
    if len(normalised) > MAX_URL:
        raise ValueError(f"That URL is too long: keep it under {MAX_URL} characters.")
    if allow_private:
        return normalised
    if literal is not None:
        addresses = [literal]
    elif "." not in host.rstrip("."):  # `localhost`, `db`: names of the local network
        raise ValueError(_NOT_PUBLIC)
    else:
        addresses = _resolve(host, parsed.port or 443, resolve)
    if not addresses or not all(_public(address) for address in addresses):
        raise ValueError(_NOT_PUBLIC)
    return normalised


def new_client(timeout: httpx.Timeout = TIMEOUT) -> httpx.Client:
    """A client for `deliver`: short timeouts and no redirects."""
    return httpx.Client(timeout=timeout, follow_redirects=False)


def deliver(
    client: httpx.Client,
    url: str,
    secret: str,
    msg_id: str,
    payload: Mapping[str, Any],
    now: datetime,
    *,
    allow_private: bool = False,
    resolve: Resolver = socket.getaddrinfo,
) -> Delivery:
    """POST one signed attempt and judge the answer. The URL is checked again first: its host may
    resolve elsewhere since it was added. Redirects are never followed (whatever the client's
    setting): one could point inside our network. Only the status is read, never the body."""
    try:
        target = check_url(url, allow_private=allow_private, resolve=resolve)
    except UnresolvableHost:
        return Delivery(ok=False, status=None, retryable=True, detail="host did not resolve")
    except ValueError as err:
        return Delivery(ok=False, status=None, retryable=False, detail=f"refused: {err}")
    body = json.dumps(
        dict(payload), separators=(",", ":"), sort_keys=True, ensure_ascii=False, allow_nan=False
    ).encode()
    signed = headers(secret, msg_id, _seconds(now), body)
    try:
        with client.stream(
            "POST", target, content=body, headers=signed, follow_redirects=False
        ) as response:
            status = response.status_code
    except httpx.TimeoutException as err:
        return Delivery(
            ok=False, status=None, retryable=True, detail=f"timed out ({type(err).__name__})"
        )
    except httpx.HTTPError as err:  # connection refused or reset, TLS failure, bad response
        detail = f"{type(err).__name__}: {err}"[:200]
        return Delivery(ok=False, status=None, retryable=True, detail=detail)
    return _judge(status)


def _judge(status: int) -> Delivery:
    """2xx succeeds and 410 asks us to stop, as the spec says. Retried: a timeout (408), a rate
    limit (429) and server errors. Other client errors are not: the spec would retry them too,
    but a wrong path or a refused signature will not mend itself before the admins hear of it."""
    try:
        detail = f"{status} {HTTPStatus(status).phrase}"  # not the receiver's own phrase
    except ValueError:
        detail = str(status)
    if 200 <= status < 300:
        return Delivery(ok=True, status=status, retryable=False, detail=detail)
    if 300 <= status < 400:
        detail += ": redirects are not followed; point the webhook at the final URL"
    elif status == HTTPStatus.GONE:
        detail += ": the receiver asked us to stop"
    retryable = status in (HTTPStatus.REQUEST_TIMEOUT, HTTPStatus.TOO_MANY_REQUESTS) or (
        status >= 500
    )
    return Delivery(ok=False, status=status, retryable=retryable, detail=detail)


def _key(secret: str) -> bytes:
    """The HMAC key in a `whsec_` secret (the prefix optional, as the spec's libraries allow).
    Errors never quote the secret."""
    encoded = secret.removeprefix(SECRET_PREFIX)
    try:
        key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except binascii.Error:
        raise ValueError("not a webhook secret: expected whsec_ and base64") from None
    if not 24 <= len(key) <= 64:
        raise ValueError("not a webhook secret: its key must be 24 to 64 bytes")
    return key


def _signature(key: bytes, msg_id: str, timestamp: int, body: bytes) -> str:
    content = f"{msg_id}.{timestamp}.".encode() + body
    return base64.b64encode(hmac.new(key, content, hashlib.sha256).digest()).decode()


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("a webhook time must be timezone-aware")
    return moment


def _seconds(moment: datetime) -> int:
    return int(_aware(moment).timestamp())


def _ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _resolve(
    host: str, port: int, resolve: Resolver
) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    try:
        found = resolve(host, port)
    except OSError:  # socket.gaierror: no such name, or DNS unreachable
        raise UnresolvableHost(_NOT_PUBLIC) from None
    return [ipaddress.ip_address(info[4][0]) for info in found]


def _public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Whether an address is on the public internet. IPv6 forms that carry an IPv4 address
    (mapped, 6to4, NAT64) are judged by that address: `::ffff:127.0.0.1` is loopback."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            return _public(embedded)
    return address.is_global and not (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )

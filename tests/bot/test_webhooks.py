"""Outbound webhooks: Standard Webhooks signatures, the SSRF policy on URLs, and how deliveries
to a real HTTP receiver on loopback are judged."""

import base64
import hashlib
import hmac
import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import httpx
import pytest

from bot.webhooks import (
    SECRET_PREFIX,
    USER_AGENT,
    AddrInfo,
    Delivery,
    Resolver,
    UnresolvableHost,
    WebhookEvent,
    check_url,
    deliver,
    headers,
    new_client,
    new_secret,
    parse_events,
    payload,
    sign,
    verify,
)
from sandbox.webhook_receiver import WebhookReceiver

# The Standard Webhooks test vector (spec repository, libraries/*/tests).
VECTOR_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
VECTOR_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
VECTOR_TIMESTAMP = 1614265330
VECTOR_BODY = b'{"test": 2432232314}'
VECTOR_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
VECTOR_AT = datetime.fromtimestamp(VECTOR_TIMESTAMP, UTC)

SECRET = new_secret()
EVENT = payload(WebhookEvent.ITEM_FILED, {"item": 7, "title": "Export to CSV"}, "msg_1", VECTOR_AT)


def vector_headers(signature: str = VECTOR_SIGNATURE) -> dict[str, str]:
    return {
        "Webhook-Id": VECTOR_ID,
        "Webhook-Timestamp": str(VECTOR_TIMESTAMP),
        "Webhook-Signature": signature,
    }


def resolver(*addresses: str) -> Resolver:
    """A stand-in for socket.getaddrinfo that answers `addresses` for any name."""

    def resolve(host: str, port: int) -> list[AddrInfo]:
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port)) for a in addresses]

    return resolve


def unresolvable(host: str, port: int) -> list[AddrInfo]:
    raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")


# Signatures


def test_signature_matches_the_standard_webhooks_test_vector() -> None:
    assert sign(VECTOR_SECRET, VECTOR_ID, VECTOR_TIMESTAMP, VECTOR_BODY) == VECTOR_SIGNATURE
    assert verify(VECTOR_SECRET, vector_headers(), VECTOR_BODY, VECTOR_AT)


def test_headers_carry_the_id_timestamp_signature_and_who_sent_them() -> None:
    assert headers(VECTOR_SECRET, VECTOR_ID, VECTOR_TIMESTAMP, VECTOR_BODY) == {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": VECTOR_ID,
        "webhook-timestamp": str(VECTOR_TIMESTAMP),
        "webhook-signature": VECTOR_SIGNATURE,
    }


def test_verify_accepts_within_the_tolerance_and_a_secret_without_its_prefix() -> None:
    for skew in (-300, 300):
        assert verify(VECTOR_SECRET, vector_headers(), VECTOR_BODY, VECTOR_AT + timedelta(0, skew))
    bare = VECTOR_SECRET.removeprefix(SECRET_PREFIX)
    assert verify(bare, vector_headers(), VECTOR_BODY, VECTOR_AT)


@pytest.mark.parametrize(
    ("body", "at", "secret"),
    [
        (b'{"test": 2432232315}', VECTOR_AT, VECTOR_SECRET),  # tampered body
        (b'{"test":2432232314}', VECTOR_AT, VECTOR_SECRET),  # re-serialized body
        (VECTOR_BODY, VECTOR_AT + timedelta(seconds=301), VECTOR_SECRET),  # stale
        (VECTOR_BODY, VECTOR_AT - timedelta(seconds=301), VECTOR_SECRET),  # from the future
        (VECTOR_BODY, VECTOR_AT, SECRET),  # wrong secret
    ],
    ids=["tampered", "reserialized", "stale", "future", "wrong-secret"],
)
def test_verify_rejects(body: bytes, at: datetime, secret: str) -> None:
    assert not verify(secret, vector_headers(), body, at)


def test_verify_accepts_any_v1_signature_in_the_list_and_only_v1() -> None:
    bogus = "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc="
    rotated = f"{bogus} v1a,abc garbage {VECTOR_SIGNATURE}"
    assert verify(VECTOR_SECRET, vector_headers(rotated), VECTOR_BODY, VECTOR_AT)
    other_version = VECTOR_SIGNATURE.replace("v1,", "v2,")
    assert not verify(VECTOR_SECRET, vector_headers(other_version), VECTOR_BODY, VECTOR_AT)
    assert not verify(VECTOR_SECRET, vector_headers(bogus), VECTOR_BODY, VECTOR_AT)
    assert not verify(VECTOR_SECRET, vector_headers("v1,ü"), VECTOR_BODY, VECTOR_AT)


@pytest.mark.parametrize(
    "missing", ["Webhook-Id", "Webhook-Timestamp", "Webhook-Signature"], ids=str.lower
)
def test_verify_rejects_a_request_missing_a_header(missing: str) -> None:
    incomplete = {k: v for k, v in vector_headers().items() if k != missing}
    assert not verify(VECTOR_SECRET, incomplete, VECTOR_BODY, VECTOR_AT)


@pytest.mark.parametrize("stamp", ["+1614265330", " 1614265330", "1614265330.0", "1_614_265_330"])
def test_verify_reads_only_a_plain_integer_timestamp(stamp: str) -> None:
    assert not verify(
        VECTOR_SECRET, {**vector_headers(), "Webhook-Timestamp": stamp}, VECTOR_BODY, VECTOR_AT
    )


def test_new_secrets_are_random_32_byte_keys_that_sign_and_verify() -> None:
    first, second = new_secret(), new_secret()
    assert first != second
    assert first.startswith(SECRET_PREFIX)
    assert len(base64.b64decode(first.removeprefix(SECRET_PREFIX), validate=True)) == 32
    signed = headers(first, "msg_2", VECTOR_TIMESTAMP, b"{}")
    assert verify(first, signed, b"{}", VECTOR_AT)
    assert not verify(second, signed, b"{}", VECTOR_AT)


@pytest.mark.parametrize("secret", ["whsec_not base64!", "whsec_c2hvcnQ=", "", "whsec_"])
def test_a_malformed_secret_is_an_error_that_does_not_quote_it(secret: str) -> None:
    with pytest.raises(ValueError, match="not a webhook secret") as raised:
        sign(secret, "msg_1", VECTOR_TIMESTAMP, b"{}")
    encoded = secret.removeprefix(SECRET_PREFIX)
    assert not encoded or encoded not in str(raised.value)


@pytest.mark.parametrize("msg_id", ["msg.1", "", "msg 1", "msg\r\n1", "ü"])
def test_an_id_that_could_shift_the_signed_fields_or_break_a_header_is_refused(
    msg_id: str,
) -> None:
    with pytest.raises(ValueError, match="webhook id"):
        sign(SECRET, msg_id, VECTOR_TIMESTAMP, b"{}")


def test_verify_refuses_an_id_with_a_dot_even_correctly_signed() -> None:
    key = base64.b64decode(VECTOR_SECRET.removeprefix(SECRET_PREFIX))
    content = f"msg.1.{VECTOR_TIMESTAMP}.".encode() + VECTOR_BODY
    signature = "v1," + base64.b64encode(hmac.new(key, content, hashlib.sha256).digest()).decode()
    forged = {**vector_headers(signature), "Webhook-Id": "msg.1"}
    assert not verify(VECTOR_SECRET, forged, VECTOR_BODY, VECTOR_AT)


def test_times_must_be_timezone_aware() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        verify(VECTOR_SECRET, vector_headers(), VECTOR_BODY, datetime(2021, 2, 25, 15, 2, 10))


# Payload and events


def test_payload_is_the_recommended_envelope_in_utc() -> None:
    at = datetime(2025, 3, 1, 9, 30, 15, 250000, tzinfo=timezone(timedelta(hours=1)))
    assert payload(WebhookEvent.RISK_FILED, {"item": 3}, "msg_9", at) == {
        "id": "msg_9",
        "type": "risk.filed",
        "timestamp": "2025-03-01T08:30:15.250000Z",
        "data": {"item": 3},
    }


def test_events_default_to_all() -> None:
    assert parse_events([]) == set(WebhookEvent)
    assert parse_events(["all"]) == set(WebhookEvent)


def test_events_by_name_alias_comma_and_case() -> None:
    assert parse_events(["item.filed", "Risk.Filed"]) == {
        WebhookEvent.ITEM_FILED,
        WebhookEvent.RISK_FILED,
    }
    assert parse_events(["status,milestone,"]) == {
        WebhookEvent.ITEM_STATUS_CHANGED,
        WebhookEvent.MILESTONE_DONE,
    }


def test_an_unknown_event_lists_the_valid_names_without_pinging() -> None:
    with pytest.raises(ValueError) as raised:
        parse_events(["item.filed", "<!channel>"])
    message = str(raised.value)
    assert "<!channel>" not in message
    assert "&lt;!channel&gt;" in message
    for event in WebhookEvent:
        assert f"`{event}`" in message


# URL policy


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://hooks.example.com/x", "https://"),
        ("ftp://hooks.example.com/x", "https://"),
        ("https://user:pass@hooks.example.com/x", "user:password@"),
        ("https://token@hooks.example.com/x", "user:password@"),
        ("https:///x", "no host"),
        ("https://exa mple.com/x", "no host"),
        ("https://hooks.example.com/" + "x" * 500, "too long"),
        ("not a url at all", "https://"),
        ("https://127.0.0.1/x", "public internet"),
        ("https://10.1.2.3/x", "public internet"),
        ("https://172.16.0.1/x", "public internet"),
        ("https://192.168.1.1/x", "public internet"),
        ("https://100.64.0.1/x", "public internet"),  # carrier-grade NAT
        ("https://169.254.169.254/latest/meta-data/", "public internet"),
        ("https://0.0.0.0/x", "public internet"),
        ("https://224.0.1.1/x", "public internet"),  # multicast, yet "global" to ipaddress
        ("https://[::1]/x", "public internet"),
        ("https://[::]/x", "public internet"),
        ("https://[::ffff:127.0.0.1]/x", "public internet"),
        ("https://[::ffff:169.254.169.254]/x", "public internet"),
        ("https://[2002:7f00:1::]/x", "public internet"),  # 6to4 of 127.0.0.1
        ("https://[64:ff9b::a00:1]/x", "public internet"),  # NAT64 of 10.0.0.1
        ("https://[fe80::1]/x", "public internet"),
        ("https://[fd00:ec2::254]/x", "public internet"),  # AWS metadata over IPv6
        ("https://[ff0e::1]/x", "public internet"),
        ("https://localhost/x", "public internet"),
        ("https://2130706433/x", "public internet"),  # 127.0.0.1 as one number
        ("https://0x7f.1/x", "public internet"),  # 127.0.0.1 in hex, abbreviated
    ],
)
def test_check_url_refuses(url: str, reason: str) -> None:
    # The real resolver: numeric hosts like 2130706433 resolve without the network.
    with pytest.raises(ValueError, match=reason):
        check_url(url, allow_private=False)


@pytest.mark.parametrize(
    "addresses",
    [("10.0.0.5",), ("93.184.215.14", "127.0.0.1"), ("2606:2800::1", "fd12::1"), ()],
    ids=["private", "one-of-several", "ipv6-ula", "no-addresses"],
)
def test_check_url_refuses_a_name_resolving_inside(addresses: tuple[str, ...]) -> None:
    with pytest.raises(ValueError, match="public internet"):
        check_url("https://hooks.example.com/x", allow_private=False, resolve=resolver(*addresses))


def test_check_url_refuses_a_single_label_name_whatever_it_resolves_to() -> None:
    """`https://intranet/` is looked up in the bot's own search domains."""
    with pytest.raises(ValueError, match="public internet"):
        check_url("https://intranet/x", allow_private=False, resolve=resolver("93.184.215.14"))


def test_check_url_says_the_same_of_an_unresolvable_name_but_as_its_own_kind() -> None:
    with pytest.raises(UnresolvableHost, match="public internet"):
        check_url("https://nope.example.com/x", allow_private=False, resolve=unresolvable)


def test_check_url_accepts_a_public_https_url_normalised() -> None:
    public = resolver("93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c")
    assert (
        check_url(
            " HTTPS://Hooks.Example.COM:443/in/T1?a=1#frag ", allow_private=False, resolve=public
        )
        == "https://hooks.example.com/in/T1?a=1"
    )
    assert (
        check_url("https://bücher.example/x", allow_private=False, resolve=public)
        == "https://xn--bcher-kva.example/x"
    )
    assert check_url("https://8.8.8.8:8443/x", allow_private=False) == "https://8.8.8.8:8443/x"


@pytest.mark.parametrize(
    "address", ["::ffff:8.8.8.8", "64:ff9b::808:808", "2002:808:808::"], ids=str
)
def test_ipv6_forms_of_a_public_ipv4_address_are_judged_by_it(address: str) -> None:
    """As DNS64 answers for an IPv4-only host on an IPv6-only network."""
    url = "https://hooks.example.com/x"
    assert check_url(url, allow_private=False, resolve=resolver(address)) == url


def test_allow_private_admits_plain_http_on_loopback_for_tests() -> None:
    assert check_url("http://127.0.0.1:8080/a", allow_private=True) == "http://127.0.0.1:8080/a"
    with pytest.raises(ValueError, match="user:password@"):
        check_url("http://u:p@127.0.0.1/", allow_private=True)


# Delivery to a receiver on loopback


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver(SECRET, verify) as started:
        yield started


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with new_client() as made:
        yield made


def send(client: httpx.Client, url: str, secret: str = SECRET) -> Delivery:
    delivery = deliver(client, url, secret, "msg_1", EVENT, datetime.now(UTC), allow_private=True)
    assert secret not in delivery.detail and "Export to CSV" not in delivery.detail
    return delivery


def test_a_delivery_arrives_signed_and_verifies(
    receiver: WebhookReceiver, client: httpx.Client
) -> None:
    assert send(client, receiver.url + "/hook") == Delivery(
        ok=True, status=204, retryable=False, detail="204 No Content"
    )
    (received,) = receiver.deliveries
    assert received.verified
    assert received.path == "/hook"
    assert received.body == EVENT
    assert received.headers["webhook-id"] == "msg_1"
    assert received.headers["user-agent"] == USER_AGENT
    assert received.headers["content-type"] == "application/json"
    assert receiver.unique_ids == ["msg_1"]


def test_a_server_error_is_retried_with_the_same_id_and_processed_once(
    receiver: WebhookReceiver, client: httpx.Client
) -> None:
    receiver.respond(500, times=2)
    outcomes = [send(client, receiver.url) for _ in range(3)]
    assert [(d.ok, d.status, d.retryable) for d in outcomes] == [
        (False, 500, True),
        (False, 500, True),
        (True, 204, False),
    ]
    assert len(receiver.deliveries) == 3
    assert all(r.verified for r in receiver.deliveries)
    assert receiver.unique_ids == ["msg_1"]


@pytest.mark.parametrize(
    ("status", "retryable"),
    [(408, True), (429, True), (502, True), (503, True), (400, False), (401, False), (404, False)],
)
def test_which_failures_are_worth_retrying(
    receiver: WebhookReceiver, client: httpx.Client, status: int, retryable: bool
) -> None:
    receiver.respond(status)
    delivery = send(client, receiver.url)
    assert (delivery.ok, delivery.status, delivery.retryable) == (False, status, retryable)
    assert not delivery.gone


def test_410_gone_means_stop(receiver: WebhookReceiver, client: httpx.Client) -> None:
    receiver.respond(410)
    delivery = send(client, receiver.url)
    assert (delivery.ok, delivery.retryable, delivery.gone) == (False, False, True)
    assert "asked us to stop" in delivery.detail


@pytest.mark.parametrize("follow", [False, True])
def test_a_redirect_is_a_failure_and_never_followed(
    receiver: WebhookReceiver, follow: bool
) -> None:
    receiver.respond(307, headers={"Location": "http://169.254.169.254/latest/meta-data/"})
    with httpx.Client(timeout=2, follow_redirects=follow) as trusting:
        delivery = send(trusting, receiver.url)
    assert (delivery.ok, delivery.status, delivery.retryable) == (False, 307, False)
    assert "redirects are not followed" in delivery.detail
    assert len(receiver.deliveries) == 1


def test_a_stalled_receiver_times_out_and_the_retry_is_processed_once(
    receiver: WebhookReceiver,
) -> None:
    receiver.stall()
    with new_client(httpx.Timeout(0.3)) as impatient:
        delivery = send(impatient, receiver.url)
    assert (delivery.ok, delivery.status, delivery.retryable) == (False, None, True)
    assert delivery.detail == "timed out (ReadTimeout)"
    receiver.release()
    with new_client() as patient:
        assert send(patient, receiver.url).ok
    assert len(receiver.deliveries) == 2  # the stalled one arrived: hence a stable id
    assert receiver.unique_ids == ["msg_1"]


def test_a_refused_connection_is_retried(client: httpx.Client) -> None:
    with WebhookReceiver(SECRET, verify) as gone:
        url = gone.url
    delivery = send(client, url)
    assert (delivery.ok, delivery.status, delivery.retryable) == (False, None, True)
    assert delivery.detail.startswith("ConnectError")


def test_a_path_answers_only_to_its_own_secret(client: httpx.Client) -> None:
    other = new_secret()
    with WebhookReceiver({"/a": SECRET, "/b": other}, verify) as paths:
        assert send(client, paths.url + "/a").ok
        assert send(client, paths.url + "/b", other).ok
        wrong = send(client, paths.url + "/b")
        unknown = send(client, paths.url + "/c")
        assert [r.verified for r in paths.deliveries] == [True, True, False, False]
    assert (wrong.status, wrong.retryable, unknown.status) == (401, False, 404)


def test_delivery_checks_the_url_again_and_sends_nothing_inside(
    receiver: WebhookReceiver, client: httpx.Client
) -> None:
    refused = deliver(client, receiver.url, SECRET, "msg_1", EVENT, datetime.now(UTC))
    assert (refused.ok, refused.status, refused.retryable) == (False, None, False)
    assert refused.detail.startswith("refused: ")
    moved = deliver(
        client,
        "https://hooks.example.com/x",
        SECRET,
        "msg_1",
        EVENT,
        datetime.now(UTC),
        resolve=resolver("10.0.0.7"),
    )
    assert (moved.ok, moved.retryable) == (False, False)
    assert receiver.deliveries == []


def test_a_name_that_does_not_resolve_now_may_later(client: httpx.Client) -> None:
    delivery = deliver(
        client,
        "https://hooks.example.com/x",
        SECRET,
        "msg_1",
        EVENT,
        datetime.now(UTC),
        resolve=unresolvable,
    )
    assert delivery == Delivery(
        ok=False, status=None, retryable=True, detail="host did not resolve"
    )

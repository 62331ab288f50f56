"""The SSRF guard, the signature headers (verified by the reference `standardwebhooks` package), Retry-After and
the pinned connection target, without any server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from api.webhook_delivery import pinned, retry_after
from shared.config import WebhookSettings
from shared.webhooks import UnsafeURL, check_url, new_secret, signature_headers

STRICT = WebhookSettings()


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hook",
        "https://localhost/hook",
        "https://10.1.2.3/hook",
        "https://172.16.0.1/hook",
        "https://192.168.1.1/hook",
        "https://169.254.169.254/latest/meta-data/",
        "https://100.64.0.1/hook",
        "https://[::1]/hook",
        "https://[fd12:3456::1]/hook",
        "https://[fe80::1]/hook",
        "https://[::ffff:127.0.0.1]/hook",
        "https://0.0.0.0/hook",
        "https://224.0.0.1/hook",
    ],
)
def test_internal_addresses_are_refused(url: str) -> None:
    with pytest.raises(UnsafeURL, match="WEBHOOKS__ALLOWLIST"):
        check_url(url, STRICT)


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://93.184.215.14/hook", "https"),
        ("ftp://93.184.215.14/x", "http"),
        ("https://user:pw@93.184.215.14/", "credentials"),
        ("https:///nohost", "http"),
    ],
)
def test_scheme_and_credentials(url: str, why: str) -> None:
    with pytest.raises(UnsafeURL, match=why):
        check_url(url, STRICT)


def test_public_addresses_pass_and_the_allowlist_opens_named_ranges() -> None:
    assert check_url("https://93.184.215.14/hook", STRICT) == ["93.184.215.14"]
    lab = WebhookSettings(allowlist=["10.20.0.0/16", "127.0.0.1"], allow_http=True)
    assert check_url("http://10.20.3.4:8080/x", lab) == ["10.20.3.4"]
    assert check_url("http://127.0.0.1:9/x", lab) == ["127.0.0.1"]
    with pytest.raises(UnsafeURL):
        check_url("http://10.21.0.1/x", lab)


def test_signatures_verify_with_the_reference_package_and_rotation_signs_twice() -> None:
    old, new = new_secret(), new_secret()
    body = '{"type":"job.succeeded","data":{"id":"job_1"}}'
    headers = signature_headers("msg_1", body, [new, old])
    assert headers["webhook-id"] == "msg_1" and headers["webhook-signature"].count("v1,") == 2
    for secret in (new, old):
        assert Webhook(secret).verify(body, headers) == {"type": "job.succeeded", "data": {"id": "job_1"}}
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(body, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(new).verify(body.replace("job_1", "job_2"), headers)
    stale = signature_headers("msg_1", body, [new], now=datetime.now(UTC) - timedelta(minutes=10))
    with pytest.raises(WebhookVerificationError):  # replayed outside the tolerance window
        Webhook(new).verify(body, stale)


def test_retry_after_and_pinning() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert retry_after("120", now) == 120.0
    assert retry_after("Thu, 01 Jan 2026 00:01:00 GMT", now) == 60.0
    assert retry_after("soon", now) is None and retry_after(None, now) is None
    target, host, ext = pinned("https://hooks.example.com:8443/a/b?x=1", "93.184.215.14")
    assert target == "https://93.184.215.14:8443/a/b?x=1"
    assert host == {"host": "hooks.example.com:8443"} and ext == {"sni_hostname": "hooks.example.com"}
    target, _, _ = pinned("https://h.example/", "2001:db8::1")
    assert target == "https://[2001:db8::1]/"

"""Webhooks: events recorded with the state change that causes them, signed per Standard Webhooks, sent safely.

- Events (`job.succeeded`, `job.failed`, `job.canceled`, `voice.ready`, `voice.failed`, `batch.completed`,
  `batch.failed`, `batch.expired`) become `webhook_deliveries` rows in the same transaction as the state change,
  one per destination (each enabled endpoint of the account that wants the event, and the request's own
  `webhook_url`), so an event is never lost and never recorded twice. The rows are the delivery queue.
- Payloads are thin: ids, status, where to fetch the result.
- Signatures: `webhook-id` (the delivery id, the same on every retry), `webhook-timestamp`, and
  `webhook-signature: v1,<base64 HMAC-SHA256>` made with the reference `standardwebhooks` package.
- Signing secrets (`whsec_...`) are stored encrypted with SECRETS_KEY (Fernet), never in plain text.
- SSRF guard: https only unless allowed, and no address in a private, loopback, link-local, CGNAT, unique-local,
  multicast or reserved range unless the allowlist names it; checked when a URL is given and again, on the
  resolved addresses, at every delivery.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import secrets
import socket
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.config import Settings, WebhookSettings
from shared.db.models import Job, WebhookDelivery, WebhookEndpoint, utcnow

EVENT_TYPES = (
    "job.succeeded",
    "job.failed",
    "job.canceled",
    "voice.ready",
    "voice.failed",
    "batch.completed",
    "batch.failed",
    "batch.expired",
)
SECRET_PREFIX = "whsec_"
BLOCKED_NETWORKS = [
    ipaddress.ip_network(n)
    for n in (
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",  # CGNAT
        "127.0.0.0/8",
        "169.254.0.0/16",  # link-local, cloud metadata
        "172.16.0.0/12",
        "192.0.0.0/24",
        "192.168.0.0/16",
        "198.18.0.0/15",
        "224.0.0.0/4",
        "240.0.0.0/4",
        "::/128",
        "::1/128",
        "::ffff:0:0/96",
        "64:ff9b::/96",
        "fc00::/7",  # unique local
        "fe80::/10",
        "ff00::/8",
    )
]


class UnsafeURL(ValueError):
    """A webhook URL the SSRF guard refuses; the message says why and how to allow it."""


class SecretsUnavailable(RuntimeError):
    """No SECRETS_KEY: signing secrets cannot be stored."""


# --- secrets ------------------------------------------------------------------------------------------------------
def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def _fernet(settings: Settings) -> Any:
    from cryptography.fernet import Fernet

    if settings.secrets_key is None or not settings.secrets_key.get_secret_value():
        raise SecretsUnavailable(
            "Webhook signing secrets are stored encrypted, and this server has no SECRETS_KEY: set it to a Fernet "
            "key (python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')."
        )
    return Fernet(settings.secrets_key.get_secret_value().encode())


def encrypt_secret(settings: Settings, secret: str) -> str:
    return str(_fernet(settings).encrypt(secret.encode()).decode())


def decrypt_secret(settings: Settings, token: str) -> str:
    return str(_fernet(settings).decrypt(token.encode()).decode())


def signing_secrets(settings: Settings, endpoint: WebhookEndpoint | None, now: datetime | None = None) -> list[str]:
    """The secrets a delivery is signed with: the current one, and the previous one during its grace period."""
    if endpoint is None:
        return []
    found = [decrypt_secret(settings, endpoint.secret_encrypted)]
    now = now or utcnow()
    grace = endpoint.previous_secret_expires_at
    if endpoint.previous_secret_encrypted and grace is not None and grace > now:
        found.append(decrypt_secret(settings, endpoint.previous_secret_encrypted))
    return found


def signature_headers(delivery_id: str, body: str, secrets_: list[str], now: datetime | None = None) -> dict[str, str]:
    """Standard Webhooks headers for one attempt (one `v1,` signature per secret, space-separated)."""
    from standardwebhooks.webhooks import Webhook

    stamp = (now or datetime.now(UTC)).replace(microsecond=0)
    signatures = [Webhook(secret).sign(delivery_id, stamp, body) for secret in secrets_]
    return {
        "webhook-id": delivery_id,
        "webhook-timestamp": str(int(stamp.timestamp())),
        "webhook-signature": " ".join(signatures),
        "content-type": "application/json",
        "user-agent": "speechtospeechai-webhooks/1",
    }


# --- the SSRF guard -----------------------------------------------------------------------------------------------
def _allowed(address: ipaddress.IPv4Address | ipaddress.IPv6Address, host: str, cfg: WebhookSettings) -> bool:
    for entry in cfg.allowlist:
        if entry.lower() == host.lower():
            return True
        try:
            if address in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue
    return not any(address in network for network in BLOCKED_NETWORKS)


def check_url(url: str, cfg: WebhookSettings, *, resolve: bool = True) -> list[str]:
    """Refuse (UnsafeURL) what the guard does not allow; returns the addresses the host resolved to."""
    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port
        if host:
            host.encode("idna")
    except (ValueError, UnicodeError) as exc:
        raise UnsafeURL(f"'{url[:200]}' is not a valid URL ({exc}).") from exc
    if parts.scheme not in ("https", "http") or not host:
        raise UnsafeURL(f"'{url[:200]}' is not an http(s) URL.")
    if parts.scheme == "http" and not cfg.allow_http and host not in cfg.allowlist:
        raise UnsafeURL("Webhook URLs must use https (set WEBHOOKS__ALLOW_HTTP=true to allow plain http).")
    if parts.username or parts.password:
        raise UnsafeURL("Webhook URLs may not carry credentials; verify the signature instead.")
    if not resolve:
        return []
    try:
        infos = socket.getaddrinfo(host, port or (443 if parts.scheme == "https" else 80), type=socket.SOCK_STREAM)
    except (OSError, UnicodeError, ValueError) as exc:
        raise UnsafeURL(f"The webhook host '{host[:200]}' does not resolve ({exc}).") from exc
    addresses = sorted({str(info[4][0]) for info in infos})
    for text in addresses:
        address = ipaddress.ip_address(text.split("%", 1)[0])
        if not _allowed(address, host, cfg):
            raise UnsafeURL(
                f"The webhook host '{host}' resolves to {address}, a private, loopback, link-local or "
                "reserved address; name it in WEBHOOKS__ALLOWLIST to allow it."
            )
    return addresses


# --- events ---------------------------------------------------------------------------------------------------------
def wants(endpoint: WebhookEndpoint, event_type: str) -> bool:
    types = (endpoint.events or {}).get("types") or []
    return endpoint.enabled and (not types or event_type in types)


def record(
    session: Session, account_id: str, event_type: str, data: dict[str, Any], url: str | None = None
) -> list[WebhookDelivery]:
    """Queue the event for every endpoint of the account that wants it, and for `url`; in the caller's transaction."""
    payload = {"type": event_type, "timestamp": utcnow().isoformat().replace("+00:00", "Z"), "data": data}
    endpoints = session.execute(select(WebhookEndpoint).where(WebhookEndpoint.account_id == account_id)).scalars()
    deliveries = [
        WebhookDelivery(account_id=account_id, endpoint_id=e.id, url=e.url, event_type=event_type, payload=payload)
        for e in endpoints
        if wants(e, event_type)
    ]
    if url:
        deliveries.append(WebhookDelivery(account_id=account_id, url=url, event_type=event_type, payload=payload))
    session.add_all(deliveries)
    return deliveries


def job_event(session: Session, job_id: str) -> None:
    """A job reached a terminal state: `job.<state>`, and for an enrollment `voice.ready` / `voice.failed`."""
    job = session.execute(select(Job).where(Job.id == job_id).execution_options(populate_existing=True)).scalar_one()
    data = {
        "id": job.id,
        "object": "job",
        "kind": job.kind,
        "model": job.model,
        "status": job.state,
        "batch_id": job.batch_id,
        "error": {"code": job.error_code, "message": job.error_message} if job.error_code else None,
        "result_url": f"/v1/jobs/{job.id}/result" if job.state == "succeeded" else None,
    }
    if job.batch_id is None:  # a batch's items speak through its batch.* event (and its output file)
        record(session, job.account_id, f"job.{job.state}", data, job.webhook_url)
    if job.kind in ("clone", "design"):  # the voice it made
        voice_id = (job.request or {}).get("voice_id")
        voice_event = "voice.ready" if job.state == "succeeded" else "voice.failed"
        record(session, job.account_id, voice_event, {"id": voice_id, "object": "voice", "job_id": job.id})


def body_of(delivery: WebhookDelivery, base_url: str = "") -> str:
    """The JSON sent: the delivery id, the event type, its time and data (a `result_url` made absolute)."""
    payload = dict(delivery.payload)
    data = dict(payload.get("data") or {})
    if isinstance(data.get("result_url"), str) and data["result_url"].startswith("/"):
        data["result_url"] = base_url.rstrip("/") + data["result_url"]
    payload["data"] = data
    return json.dumps({"id": delivery.id, **payload}, separators=(",", ":"))

"""The webhook deliverer: sends due `webhook_deliveries` rows, at least once, from every API process.

The rows are the delivery queue (their own queue: deliveries never wait behind jobs, nor jobs behind a slow
receiver). A process claims a due row by compare-and-set (`pending` -> `sending`, with a lease: a process that dies
mid-send leaves the row to be claimed again when the lease ends), sends it, and records the outcome:

- 2xx: `succeeded`.
- 410 Gone: the endpoint asked to be disabled; it is, with the reason, and the delivery is `failed`.
- 429: retried when its `Retry-After` says, if that is later than the schedule (at most 6 hours later).
- anything else (3xx included: redirects are never followed, 4xx, 5xx, a timeout, a refused or unsafe address):
  retried after WEBHOOKS__RETRY_SCHEDULE_SECONDS[attempt] ±20 % jitter; after the last, `failed`.
- An endpoint whose deliveries have failed for WEBHOOKS__DISABLE_AFTER_DAYS is disabled and says so.

Every attempt resolves the host again, checks every address against the SSRF guard and connects to the address it
checked (TLS still verifies the certificate for the host name), so a DNS answer that changes between the check and
the connection cannot point a delivery at an internal address.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import random
from datetime import datetime, timedelta
from urllib.parse import urlsplit, urlunsplit

import anyio
import httpx
from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from api.deps import AppState
from shared import webhooks
from shared.db.models import WebhookDelivery, WebhookEndpoint, utcnow

log = logging.getLogger(__name__)

MAX_ROUNDS = 20  # claims per tick, each of up to WEBHOOKS__CONCURRENCY rows
ERROR_CHARS = 500
MAX_RETRY_AFTER_SECONDS = 6 * 3600.0


def retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds a 429's Retry-After asks for (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (moment - now).total_seconds())


def pinned(url: str, address: str) -> tuple[str, dict[str, str], dict[str, str]]:
    """The URL with its host replaced by the checked address, the Host header and the TLS server name."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    literal = f"[{address}]" if ":" in address else address
    netloc = literal + (f":{parts.port}" if parts.port else "")
    host_header = host + (f":{parts.port}" if parts.port else "")
    target = urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))
    return target, {"host": host_header}, {"sni_hostname": host}


class Deliverer:
    def __init__(self, state: AppState) -> None:
        self.state = state
        self.cfg = state.settings.webhooks
        self.client = httpx.AsyncClient(follow_redirects=False, timeout=self.cfg.timeout_seconds, trust_env=False)

    async def close(self) -> None:
        await self.client.aclose()

    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=self.cfg.timeout_seconds * 3 + 30)

    async def claim(self) -> list[str]:
        now = utcnow()
        async with self.state.sessions() as session:
            due = (
                await session.execute(
                    select(WebhookDelivery.id, WebhookDelivery.status, WebhookDelivery.next_attempt_at)
                    .where(
                        or_(WebhookDelivery.status == "pending", WebhookDelivery.status == "sending"),
                        WebhookDelivery.next_attempt_at <= now,
                    )
                    .order_by(WebhookDelivery.next_attempt_at)
                    .limit(self.cfg.concurrency)
                )
            ).all()
            claimed = []
            for delivery_id, status, at in due:
                taken = await session.execute(
                    update(WebhookDelivery)
                    .where(
                        WebhookDelivery.id == delivery_id,
                        WebhookDelivery.status == status,
                        WebhookDelivery.next_attempt_at == at,
                    )
                    .values(status="sending", next_attempt_at=now + self.lease)
                )
                if taken.rowcount:  # type: ignore[attr-defined]
                    claimed.append(delivery_id)
            await session.commit()
        return claimed

    async def tick(self) -> int:
        """Send what is due; returns how many attempts were made."""
        made = 0
        for _ in range(MAX_ROUNDS):
            claimed = await self.claim()
            if not claimed:
                break
            await asyncio.gather(*(self.deliver(delivery_id) for delivery_id in claimed))
            made += len(claimed)
            if len(claimed) < self.cfg.concurrency:
                break
        return made

    async def _signer(self, session: AsyncSession, delivery: WebhookDelivery) -> WebhookEndpoint | None:
        if delivery.endpoint_id:
            return await session.get(WebhookEndpoint, delivery.endpoint_id)
        return (
            (
                await session.execute(
                    select(WebhookEndpoint).where(
                        WebhookEndpoint.account_id == delivery.account_id,
                        WebhookEndpoint.default_for_requests.is_(True),
                    )
                )
            )
            .scalars()
            .first()
        )

    async def deliver(self, delivery_id: str) -> None:
        try:
            await self._deliver(delivery_id)
        except Exception:  # the lease runs out and another attempt claims it
            log.exception("webhook delivery %s: attempt crashed", delivery_id)

    async def _deliver(self, delivery_id: str) -> None:
        settings = self.state.settings
        async with self.state.sessions() as session:
            delivery = await session.get(WebhookDelivery, delivery_id)
            if delivery is None or delivery.status != "sending":
                return
            endpoint = await self._signer(session, delivery)
            if delivery.endpoint_id and (endpoint is None or not endpoint.enabled):
                await self._finish(session, delivery, "failed", None, "the endpoint is disabled")
                return
            if endpoint is None:
                await self._finish(
                    session, delivery, "failed", None, "no endpoint marked default_for_requests signs it"
                )
                return
            body = webhooks.body_of(delivery, settings.base_url)
            headers = webhooks.signature_headers(delivery.id, body, webhooks.signing_secrets(settings, endpoint))
            code: int | None = None
            error: str | None = None
            wait: float | None = None
            try:
                addresses = await anyio.to_thread.run_sync(lambda: webhooks.check_url(delivery.url, self.cfg))
                target, host, extensions = pinned(delivery.url, addresses[0])
                response = await self.client.post(
                    target, content=body, headers={**headers, **host}, extensions=extensions
                )
                code = response.status_code
                if 200 <= code < 300:
                    await self._finish(session, delivery, "succeeded", code, None, endpoint)
                    return
                if code == 410 and delivery.endpoint_id:
                    endpoint.enabled = False
                    endpoint.disabled_reason = f"The endpoint answered 410 Gone at {utcnow().isoformat()}."
                    await self._finish(session, delivery, "failed", code, "410 Gone: the endpoint was disabled")
                    return
                error = f"HTTP {code}" + (" (redirects are not followed)" if 300 <= code < 400 else "")
                if code == 429:
                    wait = retry_after(response.headers.get("retry-after"), utcnow())
            except webhooks.UnsafeURL as exc:
                error = str(exc)
            except httpx.HTTPError as exc:
                error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            await self._retry(session, delivery, endpoint, code, error or "failed", wait)

    async def _finish(
        self,
        session: AsyncSession,
        delivery: WebhookDelivery,
        status: str,
        code: int | None,
        error: str | None,
        endpoint: WebhookEndpoint | None = None,
    ) -> None:
        now = utcnow()
        delivery.attempts += 1
        delivery.status, delivery.last_status_code = status, code
        delivery.last_error = error[:ERROR_CHARS] if error else None
        delivery.next_attempt_at = None
        if status == "succeeded":
            delivery.delivered_at = now
            if endpoint is not None and delivery.endpoint_id:
                endpoint.failing_since = None
        await session.commit()

    async def _retry(
        self,
        session: AsyncSession,
        delivery: WebhookDelivery,
        endpoint: WebhookEndpoint,
        code: int | None,
        error: str,
        wait: float | None,
    ) -> None:
        now = utcnow()
        schedule = self.cfg.retry_schedule_seconds
        delivery.attempts += 1
        delivery.last_status_code, delivery.last_error = code, error[:ERROR_CHARS]
        if delivery.attempts > len(schedule):
            delivery.status, delivery.next_attempt_at = "failed", None
        else:
            delay = schedule[delivery.attempts - 1] * random.uniform(0.8, 1.2)
            if wait is not None:  # a 429's Retry-After, if it asks for longer than the schedule (up to 6 hours)
                delay = max(delay, min(wait, MAX_RETRY_AFTER_SECONDS))
            delivery.status, delivery.next_attempt_at = "pending", now + timedelta(seconds=delay)
        if delivery.endpoint_id:
            endpoint.failing_since = endpoint.failing_since or now
            if now - endpoint.failing_since >= timedelta(days=self.cfg.disable_after_days) and endpoint.enabled:
                endpoint.enabled = False
                endpoint.disabled_reason = (
                    f"Every delivery has failed since {endpoint.failing_since.isoformat()} (last: {error[:200]}); "
                    "fix the receiver, then PATCH enabled=true."
                )
        await session.commit()


async def redeliver(state: AppState, delivery_id: str) -> None:
    """Queue a delivery again now (its webhook-id stays)."""
    async with state.sessions() as session:
        await session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id == delivery_id, WebhookDelivery.status != "sending")
            .values(status="pending", attempts=0, next_attempt_at=utcnow())
        )
        await session.commit()

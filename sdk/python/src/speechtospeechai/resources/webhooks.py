"""`client.webhooks`: verify deliveries (`unwrap`, `verify`), manage endpoints, and redeliver.

Deliveries follow the Standard Webhooks specification; verification uses its reference package
(`standardwebhooks`): the HMAC-SHA256 signature over `webhook-id.webhook-timestamp.body`, and a timestamp within
five minutes (replays are refused).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from functools import cached_property
from typing import Any

from .._base_client import AsyncAPIResource, SyncAPIResource, make_options, parse_model, path_param
from .._exceptions import WebhookVerificationError
from ..types import WebhookDelivery, WebhookDeliveryList, WebhookEndpoint, WebhookEndpointList, WebhookEvent

__all__ = ["AsyncWebhookEndpoints", "AsyncWebhooks", "WebhookEndpoints", "Webhooks", "unwrap", "verify"]

SECRET_ENV = "S2S_WEBHOOK_SECRET"


def _secret(secret: str | None) -> str:
    secret = secret or os.environ.get(SECRET_ENV)
    if not secret:
        raise ValueError(f"Pass the endpoint's signing secret (whsec_...) as secret=..., or set {SECRET_ENV}.")
    return secret


def verify(payload: str | bytes, headers: Mapping[str, str], secret: str | None = None) -> None:
    """Raise WebhookVerificationError unless `payload` (the raw request body) was signed with `secret`."""
    from standardwebhooks.webhooks import Webhook
    from standardwebhooks.webhooks import WebhookVerificationError as Invalid

    lowered = {k.lower(): v for k, v in headers.items()}
    body = payload.decode() if isinstance(payload, bytes) else payload
    try:
        Webhook(_secret(secret)).verify(body, lowered)
    except Invalid as exc:
        raise WebhookVerificationError(f"The webhook does not verify: {exc}.") from exc


def unwrap(payload: str | bytes, headers: Mapping[str, str], secret: str | None = None) -> WebhookEvent:
    """Verify the delivery and return its event (`type`, `data`); the same `id` on every retry (deduplicate by it)."""
    import json

    verify(payload, headers, secret)
    return WebhookEvent.model_validate(json.loads(payload))


def _endpoint_body(**fields: Any) -> dict[str, Any]:
    return {k: (list(v) if isinstance(v, (list, tuple)) else v) for k, v in fields.items() if v is not None}


class WebhookEndpoints(SyncAPIResource):
    """`/v1/webhook_endpoints`: where events go. The secret is in the create and rotate_secret answers only."""

    def create(
        self,
        *,
        url: str,
        events: Sequence[str] | None = None,
        description: str | None = None,
        enabled: bool | None = None,
        default_for_requests: bool | None = None,
    ) -> WebhookEndpoint:
        body = _endpoint_body(
            url=url, events=events, description=description, enabled=enabled, default_for_requests=default_for_requests
        )
        return parse_model(self._client.request(make_options("POST", "webhook_endpoints", json=body)), WebhookEndpoint)

    def list(self) -> WebhookEndpointList:
        return parse_model(self._client.request(make_options("GET", "webhook_endpoints")), WebhookEndpointList)

    def retrieve(self, endpoint_id: str) -> WebhookEndpoint:
        options = make_options("GET", f"webhook_endpoints/{path_param(endpoint_id)}")
        return parse_model(self._client.request(options), WebhookEndpoint)

    def update(self, endpoint_id: str, **fields: Any) -> WebhookEndpoint:
        """Change url, events, description, enabled or default_for_requests."""
        options = make_options("PATCH", f"webhook_endpoints/{path_param(endpoint_id)}", json=_endpoint_body(**fields))
        return parse_model(self._client.request(options), WebhookEndpoint)

    def delete(self, endpoint_id: str) -> None:
        self._client.request(make_options("DELETE", f"webhook_endpoints/{path_param(endpoint_id)}"))

    def rotate_secret(self, endpoint_id: str) -> WebhookEndpoint:
        """A new secret (in the answer); the old one keeps signing during the server's grace period."""
        options = make_options("POST", f"webhook_endpoints/{path_param(endpoint_id)}/rotate_secret")
        return parse_model(self._client.request(options), WebhookEndpoint)

    def test(self, endpoint_id: str) -> WebhookDelivery:
        options = make_options("POST", f"webhook_endpoints/{path_param(endpoint_id)}/test")
        return parse_model(self._client.request(options), WebhookDelivery)

    def deliveries(
        self, endpoint_id: str, *, limit: int | None = None, after: str | None = None
    ) -> WebhookDeliveryList:
        options = make_options(
            "GET", f"webhook_endpoints/{path_param(endpoint_id)}/deliveries", params={"limit": limit, "after": after}
        )
        return parse_model(self._client.request(options), WebhookDeliveryList)


class Webhooks(SyncAPIResource):
    """Verify what the server sends (`unwrap`, `verify`); `endpoints` to manage where it goes."""

    unwrap = staticmethod(unwrap)
    verify = staticmethod(verify)

    @cached_property
    def endpoints(self) -> WebhookEndpoints:
        return WebhookEndpoints(self._client)

    def redeliver(self, delivery_id: str) -> WebhookDelivery:
        """Send a delivery again now (same webhook-id)."""
        options = make_options("POST", f"webhook_deliveries/{path_param(delivery_id)}/redeliver")
        return parse_model(self._client.request(options), WebhookDelivery)

    def deliveries(self, *, limit: int | None = None, after: str | None = None) -> WebhookDeliveryList:
        """Every delivery of the account, per-request URLs included, newest first."""
        options = make_options("GET", "webhook_deliveries", params={"limit": limit, "after": after})
        return parse_model(self._client.request(options), WebhookDeliveryList)


class AsyncWebhookEndpoints(AsyncAPIResource):
    """The async twin of `WebhookEndpoints`."""

    async def create(
        self,
        *,
        url: str,
        events: Sequence[str] | None = None,
        description: str | None = None,
        enabled: bool | None = None,
        default_for_requests: bool | None = None,
    ) -> WebhookEndpoint:
        body = _endpoint_body(
            url=url, events=events, description=description, enabled=enabled, default_for_requests=default_for_requests
        )
        options = make_options("POST", "webhook_endpoints", json=body)
        return parse_model(await self._client.request(options), WebhookEndpoint)

    async def list(self) -> WebhookEndpointList:
        return parse_model(await self._client.request(make_options("GET", "webhook_endpoints")), WebhookEndpointList)

    async def retrieve(self, endpoint_id: str) -> WebhookEndpoint:
        options = make_options("GET", f"webhook_endpoints/{path_param(endpoint_id)}")
        return parse_model(await self._client.request(options), WebhookEndpoint)

    async def update(self, endpoint_id: str, **fields: Any) -> WebhookEndpoint:
        options = make_options("PATCH", f"webhook_endpoints/{path_param(endpoint_id)}", json=_endpoint_body(**fields))
        return parse_model(await self._client.request(options), WebhookEndpoint)

    async def delete(self, endpoint_id: str) -> None:
        await self._client.request(make_options("DELETE", f"webhook_endpoints/{path_param(endpoint_id)}"))

    async def rotate_secret(self, endpoint_id: str) -> WebhookEndpoint:
        options = make_options("POST", f"webhook_endpoints/{path_param(endpoint_id)}/rotate_secret")
        return parse_model(await self._client.request(options), WebhookEndpoint)

    async def test(self, endpoint_id: str) -> WebhookDelivery:
        options = make_options("POST", f"webhook_endpoints/{path_param(endpoint_id)}/test")
        return parse_model(await self._client.request(options), WebhookDelivery)

    async def deliveries(
        self, endpoint_id: str, *, limit: int | None = None, after: str | None = None
    ) -> WebhookDeliveryList:
        options = make_options(
            "GET", f"webhook_endpoints/{path_param(endpoint_id)}/deliveries", params={"limit": limit, "after": after}
        )
        return parse_model(await self._client.request(options), WebhookDeliveryList)


class AsyncWebhooks(AsyncAPIResource):
    """The async twin of `Webhooks` (`unwrap` and `verify` need no I/O and are plain functions)."""

    unwrap = staticmethod(unwrap)
    verify = staticmethod(verify)

    @cached_property
    def endpoints(self) -> AsyncWebhookEndpoints:
        return AsyncWebhookEndpoints(self._client)

    async def redeliver(self, delivery_id: str) -> WebhookDelivery:
        options = make_options("POST", f"webhook_deliveries/{path_param(delivery_id)}/redeliver")
        return parse_model(await self._client.request(options), WebhookDelivery)

    async def deliveries(self, *, limit: int | None = None, after: str | None = None) -> WebhookDeliveryList:
        options = make_options("GET", "webhook_deliveries", params={"limit": limit, "after": after})
        return parse_model(await self._client.request(options), WebhookDeliveryList)

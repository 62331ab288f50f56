"""Webhook endpoints (`/v1/webhook_endpoints`) and their deliveries (`/v1/webhook_deliveries`).

A new endpoint's signing secret is in the create (and rotate) response only; it is stored encrypted, and an
Idempotency-Key replay of those responses never carries it.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy import Select, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from api.deps import AccountDep, SessionDep, StateDep
from api.errors import InvalidRequest, NotFound, ServiceUnavailable
from api.idempotency import keep_secret
from api.pages import page
from api.webhook_delivery import redeliver
from api.webhook_urls import safe_url
from shared import webhooks
from shared.db.models import Account, WebhookDelivery, WebhookEndpoint, utcnow
from shared.schemas import (
    ErrorResponse,
    WebhookDeliveryList,
    WebhookDeliveryPublic,
    WebhookEndpointCreate,
    WebhookEndpointList,
    WebhookEndpointPublic,
    WebhookEndpointUpdate,
    WebhookEndpointWithSecret,
)

router = APIRouter(tags=["webhooks"])
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": ErrorResponse}}
NEEDS_KEY: dict[int | str, dict[str, Any]] = {
    503: {"model": ErrorResponse, "description": "The server has no SECRETS_KEY to store secrets with."}
}


def endpoint_public(row: WebhookEndpoint) -> WebhookEndpointPublic:
    return WebhookEndpointPublic(
        id=row.id,
        url=row.url,
        events=list((row.events or {}).get("types") or []),
        description=row.description,
        enabled=row.enabled,
        disabled_reason=row.disabled_reason,
        default_for_requests=row.default_for_requests,
        created_at=row.created_at,
    )


def delivery_public(row: WebhookDelivery) -> WebhookDeliveryPublic:
    return WebhookDeliveryPublic(
        id=row.id,
        endpoint_id=row.endpoint_id,
        url=row.url,
        event_type=row.event_type,
        status=row.status,  # type: ignore[arg-type]
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        last_status_code=row.last_status_code,
        last_error=row.last_error,
        created_at=row.created_at,
        delivered_at=row.delivered_at,
    )


async def _deliveries_page(
    session: AsyncSession, stmt: Select[Any], limit: int, after: str | None
) -> WebhookDeliveryList:
    rows, has_more = await page(session, stmt, WebhookDelivery, limit=limit, after=after)
    data = [delivery_public(r) for r in rows]
    return WebhookDeliveryList(data=data, has_more=has_more, last_id=data[-1].id if data else None)


async def own_endpoint(session: AsyncSession, account: Account, endpoint_id: str) -> WebhookEndpoint:
    row = (
        await session.execute(
            select(WebhookEndpoint).where(WebhookEndpoint.id == endpoint_id, WebhookEndpoint.account_id == account.id)
        )
    ).scalar_one_or_none()
    if row is None:
        raise NotFound(f"Webhook endpoint '{endpoint_id}' does not exist.", param="endpoint_id")
    return row


def _encrypted(state: StateDep, secret: str) -> str:
    try:
        return webhooks.encrypt_secret(state.settings, secret)
    except webhooks.SecretsUnavailable as exc:
        raise ServiceUnavailable(str(exc)) from exc


async def _only_default(session: AsyncSession, account: Account, keep: str) -> None:
    """One endpoint signs per-request URLs: marking another unmarks the rest."""
    await session.execute(
        update(WebhookEndpoint)
        .where(WebhookEndpoint.account_id == account.id, WebhookEndpoint.id != keep)
        .values(default_for_requests=False)
    )


@router.post(
    "/v1/webhook_endpoints",
    operation_id="webhook-endpoints-create",
    summary="Register a webhook endpoint (its secret is shown once)",
    response_model=WebhookEndpointWithSecret,
    responses=NEEDS_KEY,
)
async def create_endpoint(
    body: WebhookEndpointCreate, request: Request, account: AccountDep, session: SessionDep, state: StateDep
) -> WebhookEndpointWithSecret:
    url = await safe_url(state, body.url)
    secret = webhooks.new_secret()
    row = WebhookEndpoint(
        account_id=account.id,
        url=url,
        events={"types": list(dict.fromkeys(body.events))},
        description=body.description,
        enabled=body.enabled,
        default_for_requests=body.default_for_requests,
        secret_encrypted=_encrypted(state, secret),
        created_at=utcnow(),
    )
    session.add(row)
    await session.flush()
    if row.default_for_requests:
        await _only_default(session, account, row.id)
    await session.commit()
    keep_secret(request, "secret")
    return WebhookEndpointWithSecret(**endpoint_public(row).model_dump(), secret=secret)


@router.get(
    "/v1/webhook_endpoints",
    operation_id="webhook-endpoints-list",
    summary="List webhook endpoints",
    response_model=WebhookEndpointList,
)
async def list_endpoints(account: AccountDep, session: SessionDep) -> WebhookEndpointList:
    rows = (
        await session.execute(
            select(WebhookEndpoint)
            .where(WebhookEndpoint.account_id == account.id)
            .order_by(WebhookEndpoint.created_at.desc(), WebhookEndpoint.id.desc())
        )
    ).scalars()
    return WebhookEndpointList(data=[endpoint_public(r) for r in rows])


@router.get(
    "/v1/webhook_endpoints/{endpoint_id}",
    operation_id="webhook-endpoints-retrieve",
    summary="Get a webhook endpoint",
    response_model=WebhookEndpointPublic,
    responses=NOT_FOUND,
)
async def get_endpoint(endpoint_id: str, account: AccountDep, session: SessionDep) -> WebhookEndpointPublic:
    return endpoint_public(await own_endpoint(session, account, endpoint_id))


@router.patch(
    "/v1/webhook_endpoints/{endpoint_id}",
    operation_id="webhook-endpoints-update",
    summary="Change a webhook endpoint (enabling it again clears why it was disabled)",
    response_model=WebhookEndpointPublic,
    responses=NOT_FOUND,
)
async def update_endpoint(
    endpoint_id: str, body: WebhookEndpointUpdate, account: AccountDep, session: SessionDep, state: StateDep
) -> WebhookEndpointPublic:
    row = await own_endpoint(session, account, endpoint_id)
    if body.url is not None:
        row.url = await safe_url(state, body.url)
    if body.events is not None:
        row.events = {"types": list(dict.fromkeys(body.events))}
    if body.description is not None:
        row.description = body.description
    if body.enabled is not None:
        row.enabled = body.enabled
        if body.enabled:
            row.disabled_reason, row.failing_since = None, None
    if body.default_for_requests is not None:
        row.default_for_requests = body.default_for_requests
        if body.default_for_requests:
            await _only_default(session, account, row.id)
    await session.commit()
    return endpoint_public(row)


@router.delete(
    "/v1/webhook_endpoints/{endpoint_id}",
    operation_id="webhook-endpoints-delete",
    summary="Delete a webhook endpoint and its deliveries",
    status_code=204,
    responses=NOT_FOUND,
)
async def delete_endpoint(endpoint_id: str, account: AccountDep, session: SessionDep) -> Response:
    row = await own_endpoint(session, account, endpoint_id)
    await session.delete(row)
    await session.commit()
    return Response(status_code=204)


@router.post(
    "/v1/webhook_endpoints/{endpoint_id}/rotate_secret",
    operation_id="webhook-endpoints-rotate-secret",
    summary="New signing secret; the old one also signs for WEBHOOKS__SECRET_GRACE_HOURS",
    response_model=WebhookEndpointWithSecret,
    responses={**NOT_FOUND, **NEEDS_KEY},
)
async def rotate_secret(
    endpoint_id: str, request: Request, account: AccountDep, session: SessionDep, state: StateDep
) -> WebhookEndpointWithSecret:
    row = await own_endpoint(session, account, endpoint_id)
    secret = webhooks.new_secret()
    row.previous_secret_encrypted = row.secret_encrypted
    row.previous_secret_expires_at = utcnow() + timedelta(hours=state.settings.webhooks.secret_grace_hours)
    row.secret_encrypted = _encrypted(state, secret)
    await session.commit()
    keep_secret(request, "secret")
    return WebhookEndpointWithSecret(**endpoint_public(row).model_dump(), secret=secret)


@router.post(
    "/v1/webhook_endpoints/{endpoint_id}/test",
    operation_id="webhook-endpoints-test",
    summary="Send the endpoint a signed `webhook.test` event now",
    response_model=WebhookDeliveryPublic,
    responses=NOT_FOUND,
)
async def test_endpoint(endpoint_id: str, account: AccountDep, session: SessionDep) -> WebhookDeliveryPublic:
    row = await own_endpoint(session, account, endpoint_id)
    if not row.enabled:
        raise InvalidRequest(
            "The endpoint is disabled; enable it (PATCH enabled=true) to test it.", param="endpoint_id"
        )
    payload = {
        "type": "webhook.test",
        "timestamp": utcnow().isoformat().replace("+00:00", "Z"),
        "data": {"endpoint_id": row.id},
    }
    delivery = WebhookDelivery(
        account_id=account.id, endpoint_id=row.id, url=row.url, event_type="webhook.test", payload=payload
    )
    session.add(delivery)
    await session.commit()
    return delivery_public(delivery)


@router.get(
    "/v1/webhook_endpoints/{endpoint_id}/deliveries",
    operation_id="webhook-endpoints-deliveries",
    summary="The endpoint's deliveries, newest first",
    response_model=WebhookDeliveryList,
    responses=NOT_FOUND,
)
async def list_deliveries(
    endpoint_id: str,
    account: AccountDep,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    after: Annotated[str | None, Query(max_length=64)] = None,
) -> WebhookDeliveryList:
    row = await own_endpoint(session, account, endpoint_id)
    stmt = select(WebhookDelivery).where(WebhookDelivery.endpoint_id == row.id)
    return await _deliveries_page(session, stmt, limit, after)


@router.get(
    "/v1/webhook_deliveries",
    operation_id="webhook-deliveries-list",
    summary="All deliveries of the account (per-request webhook_urls included), newest first",
    response_model=WebhookDeliveryList,
)
async def list_all_deliveries(
    account: AccountDep,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    after: Annotated[str | None, Query(max_length=64)] = None,
) -> WebhookDeliveryList:
    stmt = select(WebhookDelivery).where(WebhookDelivery.account_id == account.id)
    return await _deliveries_page(session, stmt, limit, after)


@router.post(
    "/v1/webhook_deliveries/{delivery_id}/redeliver",
    operation_id="webhook-deliveries-redeliver",
    summary="Send a delivery again now (same webhook-id)",
    response_model=WebhookDeliveryPublic,
    responses=NOT_FOUND,
)
async def redeliver_delivery(
    delivery_id: str, account: AccountDep, session: SessionDep, state: StateDep
) -> WebhookDeliveryPublic:
    row = (
        await session.execute(
            select(WebhookDelivery).where(WebhookDelivery.id == delivery_id, WebhookDelivery.account_id == account.id)
        )
    ).scalar_one_or_none()
    if row is None:
        raise NotFound(f"Webhook delivery '{delivery_id}' does not exist.", param="delivery_id")
    await redeliver(state, delivery_id)
    await session.refresh(row)
    return delivery_public(row)

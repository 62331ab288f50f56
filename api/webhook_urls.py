"""Per-request `webhook_url`s (on a speech, transcription, clone or batch request): checked by the SSRF guard when
they are given, and signed with the secret of the account's endpoint marked `default_for_requests`."""

from __future__ import annotations

import anyio
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api.deps import AppState
from api.errors import InvalidRequest
from shared.db.models import Account, WebhookEndpoint
from shared.webhooks import UnsafeURL, check_url


async def safe_url(state: AppState, url: str, param: str = "url") -> str:
    """The URL, if the SSRF guard allows it (its host resolved now; again at every delivery); 400 otherwise."""
    try:
        await anyio.to_thread.run_sync(lambda: check_url(url, state.settings.webhooks))
    except UnsafeURL as exc:
        raise InvalidRequest(str(exc), param=param) from exc
    return url


async def checked_webhook_url(state: AppState, session: AsyncSession, account: Account, url: str | None) -> str | None:
    if url is None:
        return None
    signer = (
        await session.execute(
            select(WebhookEndpoint.id).where(
                WebhookEndpoint.account_id == account.id, WebhookEndpoint.default_for_requests.is_(True)
            )
        )
    ).first()
    if signer is None:
        raise InvalidRequest(
            "A per-request webhook_url is signed with the secret of your webhook endpoint marked "
            "`default_for_requests`, and you have none: create one (POST /v1/webhook_endpoints with "
            '"default_for_requests": true) first.',
            param="webhook_url",
        )
    return await safe_url(state, url, "webhook_url")

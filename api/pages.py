"""Cursor pages in OpenAI's list shape: newest first, `after` is the id of the last item already seen."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, and_, or_
from sqlalchemy.ext.asyncio import AsyncSession

from api.errors import InvalidRequest


async def page(
    session: AsyncSession, stmt: Select[Any], model: Any, *, limit: int, after: str | None
) -> tuple[list[Any], bool]:
    """The rows of `stmt` (already filtered to the caller's) after the cursor, newest first, and whether more
    follow. `model` has `id` and `created_at`."""
    if after is not None:
        cursor = (await session.execute(stmt.with_only_columns(model.created_at).where(model.id == after))).first()
        if cursor is None:
            raise InvalidRequest(f"'after' must be the id of an item of this list; '{after}' is not.", param="after")
        stamp = cursor[0]
        stmt = stmt.where(or_(model.created_at < stamp, and_(model.created_at == stamp, model.id < after)))
    rows = (
        (await session.execute(stmt.order_by(model.created_at.desc(), model.id.desc()).limit(limit + 1)))
        .scalars()
        .all()
    )
    return list(rows[:limit]), len(rows) > limit

"""scrub secrets from stored idempotency responses

Responses that carried a new API key were stored verbatim for Idempotency-Key replays. The key is removed from
every stored body and the row marked, so a replay answers 409 instead of showing the secret again.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 13:00:00
"""
import json

from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

REDACTED_HEADER = "x-s2s-redacted"


def upgrade() -> None:
    table = sa.table(
        "idempotency_keys",
        sa.column("id", sa.Integer),
        sa.column("response_body", sa.LargeBinary),
        sa.column("response_headers", sa.JSON),
    )
    bind = op.get_bind()
    rows = bind.execute(sa.select(table.c.id, table.c.response_body, table.c.response_headers)).all()
    for row_id, body, headers in rows:
        if not body or b"s2s-" not in bytes(body):
            continue
        try:
            data = json.loads(bytes(body))
        except ValueError:
            continue
        if not isinstance(data, dict) or not str(data.get("key") or "").startswith("s2s-"):
            continue
        data["key"] = None
        marked = dict(headers or {})
        marked[REDACTED_HEADER] = "key"
        bind.execute(
            sa.update(table)
            .where(table.c.id == row_id)
            .values(response_body=json.dumps(data).encode(), response_headers=marked)
        )


def downgrade() -> None:
    pass  # a removed secret cannot come back

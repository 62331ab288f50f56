"""jobs: the queue and broker a job was sent to and the worker that claimed it, for the reconciler

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 13:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('queue', sa.String(length=160), nullable=True))
        batch_op.add_column(sa.Column('broker', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('worker_id', sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_column('worker_id')
        batch_op.drop_column('broker')
        batch_op.drop_column('queue')

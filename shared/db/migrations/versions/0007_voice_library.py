"""voice library: description, labels, samples, consent, preview, designed voices' preset

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 22:20:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('voices', schema=None) as batch_op:
        batch_op.add_column(sa.Column('description', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('labels', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('samples', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('consent', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('preview_key', sa.String(length=400), nullable=True))
        batch_op.add_column(sa.Column('preset', sa.String(length=400), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('voices', schema=None) as batch_op:
        batch_op.drop_column('preset')
        batch_op.drop_column('preview_key')
        batch_op.drop_column('consent')
        batch_op.drop_column('samples')
        batch_op.drop_column('labels')
        batch_op.drop_column('description')

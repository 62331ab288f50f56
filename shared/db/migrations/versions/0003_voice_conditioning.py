"""voice conditioning: engines' per-voice conditioning stored once per (voice, model, reference digest)

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 12:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('voice_conditionings',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('voice_id', sa.String(length=40), nullable=False),
    sa.Column('model', sa.String(length=64), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('object_key', sa.String(length=400), nullable=False),
    sa.Column('bytes', sa.BigInteger(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['voice_id'], ['voices.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('voice_id', 'model', 'digest', name='uq_voice_conditionings_voice_model')
    )
    with op.batch_alter_table('voice_conditionings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_voice_conditionings_voice_id'), ['voice_id'], unique=False)
    with op.batch_alter_table('voices', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reference_sha256', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('voices', schema=None) as batch_op:
        batch_op.drop_column('reference_sha256')
    with op.batch_alter_table('voice_conditionings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_voice_conditionings_voice_id'))
    op.drop_table('voice_conditionings')

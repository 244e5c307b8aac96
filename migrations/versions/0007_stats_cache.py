"""stats cache: finished statistics results shared by every worker for a few minutes

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 16:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('stats_cache',
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('computed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    with op.batch_alter_table('stats_cache', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stats_cache_computed_at'), ['computed_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('stats_cache', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stats_cache_computed_at'))

    op.drop_table('stats_cache')

"""service deadlines: each requested service keeps its own due date; the 补正 answer deadline

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 09:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Not in batch mode: SQLite would copy the tables (losing the queue's expression indexes, 0006).
    op.add_column('request_item', sa.Column('due_date', sa.Date(), nullable=True))
    op.add_column('ticket', sa.Column('info_due', sa.Date(), nullable=True))
    # Tickets accepted before: their one deadline is what each of their services was promised.
    op.execute("UPDATE request_item SET due_date = (SELECT ticket.due_date FROM ticket "
               "WHERE ticket.id = request_item.ticket_id) WHERE ticket_id IS NOT NULL")


def downgrade() -> None:
    op.drop_column('ticket', 'info_due')
    op.drop_column('request_item', 'due_date')

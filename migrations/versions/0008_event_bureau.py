"""event bureau: the bureau that held the ticket when each history line was written

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 18:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('ticket_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('bureau_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_ticket_event_bureau_id'), ['bureau_id'], unique=False)
        batch_op.create_foreign_key('fk_ticket_event_bureau_id_bureau', 'bureau', ['bureau_id'], ['id'])
    # Earlier lines: the ticket's bureau now is the best that is known.
    op.execute("UPDATE ticket_event SET bureau_id = (SELECT ticket.bureau_id FROM ticket "
               "WHERE ticket.id = ticket_event.ticket_id) WHERE ticket_id IS NOT NULL")


def downgrade() -> None:
    with op.batch_alter_table('ticket_event', schema=None) as batch_op:
        batch_op.drop_constraint('fk_ticket_event_bureau_id_bureau', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_ticket_event_bureau_id'))
        batch_op.drop_column('bureau_id')

"""queue indexes: tickets ordered by deadline, per bureau and county-wide, all and open only

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 15:50:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

OPEN = "status IN ('submitted', 'accepted', 'in_progress', 'need_info', 'returned')"


def _deadline() -> sa.TextClause:
    far = "DATE '9999-12-31'" if op.get_bind().dialect.name == "postgresql" else "'9999-12-31'"
    return sa.text(f"coalesce(due_date, accept_due, {far})")


def upgrade() -> None:
    where = {"postgresql_where": sa.text(OPEN), "sqlite_where": sa.text(OPEN)}
    op.create_index("ix_ticket_bureau_deadline", "ticket", ["bureau_id", _deadline(), "id"])
    op.create_index("ix_ticket_deadline", "ticket", [_deadline(), "id"])
    op.create_index("ix_ticket_open_bureau_deadline", "ticket", ["bureau_id", _deadline(), "id"], **where)
    op.create_index("ix_ticket_open_deadline", "ticket", [_deadline(), "id"], **where)


def downgrade() -> None:
    for name in ("ix_ticket_open_deadline", "ix_ticket_open_bureau_deadline", "ix_ticket_deadline",
                 "ix_ticket_bureau_deadline"):
        op.drop_index(name, table_name="ticket")

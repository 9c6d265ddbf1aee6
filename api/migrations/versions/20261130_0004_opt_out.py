"""Opt-outs by number, so a STOP from a number with no patient record is kept too.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 04:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'opt_out',
        sa.Column('number', sa.String(length=40), nullable=False),
        sa.Column('opted_out_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('number', name=op.f('pk_opt_out')),
    )


def downgrade() -> None:
    op.drop_table('opt_out')

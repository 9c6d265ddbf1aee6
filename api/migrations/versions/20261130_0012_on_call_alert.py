"""The out-of-hours on-call alert of an urgent handover, until someone acknowledges it.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30 15:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'on_call_alert',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('handover_id', sa.Integer(), sa.ForeignKey('handover.id'), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_sent_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('sends', sa.Integer(), nullable=False),
        sa.Column('acknowledged_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('acknowledged_by_id', sa.Integer(), sa.ForeignKey('staff_user.id'),
                  nullable=True),
        sa.Column('acknowledged_how', sa.String(length=16), nullable=True),
        sa.UniqueConstraint('handover_id'),
    )
    op.create_index('ix_on_call_alert_acknowledged_at', 'on_call_alert', ['acknowledged_at'])


def downgrade() -> None:
    op.drop_index('ix_on_call_alert_acknowledged_at', table_name='on_call_alert')
    op.drop_table('on_call_alert')

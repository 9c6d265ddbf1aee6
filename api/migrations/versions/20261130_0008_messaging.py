"""Parked messages carry their reason; the per-number daily cap counts by recipient.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 12:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('message') as batch:
        batch.add_column(sa.Column('parked_reason', sa.String(length=200), nullable=True))
    op.create_index('ix_message_recipient', 'message', ['to_address', 'created_at'])


def downgrade() -> None:
    op.drop_index('ix_message_recipient', table_name='message')
    with op.batch_alter_table('message') as batch:
        batch.drop_column('parked_reason')

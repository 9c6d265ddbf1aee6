"""Turn outcomes: what an assistant action changed and said, until the worker writes its words.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'turn_outcome',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('message_id', sa.Integer(),
                  sa.ForeignKey('message.id', ondelete='CASCADE'), nullable=False),
        sa.Column('action', sa.String(length=64), nullable=False),
        sa.Column('replies', sa.JSON(), nullable=False),
        sa.Column('result', sa.JSON(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint('message_id', 'action', name='uq_turn_outcome_action'),
    )
    op.create_index('ix_turn_outcome_message_id', 'turn_outcome', ['message_id'])


def downgrade() -> None:
    op.drop_index('ix_turn_outcome_message_id', table_name='turn_outcome')
    op.drop_table('turn_outcome')

"""Call-list outcomes: what came of staff phoning a patient a campaign could not text
(branch campaigns-console).

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 13:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

OUTCOMES = ('rebooked', 'left_message', 'no_answer', 'wrong_number', 'declined')


def upgrade() -> None:
    with op.batch_alter_table('campaign_recipient') as batch:
        batch.add_column(sa.Column('call_outcome', sa.Enum(*OUTCOMES, name='calloutcome',
                                                           native_enum=False, length=32),
                                   nullable=True))
        batch.add_column(sa.Column('called_at', sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('called_by', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('campaign_recipient') as batch:
        batch.drop_column('called_by')
        batch.drop_column('called_at')
        batch.drop_column('call_outcome')

"""A handover remembers the patient message that opened it (the queue quotes it).

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 14:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'  # revision 0009 is being added on another branch; chain fixed at merge
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('handover') as batch:
        batch.add_column(sa.Column('trigger_message_id', sa.Integer(), nullable=True))
        batch.create_foreign_key('fk_handover_trigger_message_id_message', 'message',
                                 ['trigger_message_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('handover') as batch:
        batch.drop_constraint('fk_handover_trigger_message_id_message', type_='foreignkey')
        batch.drop_column('trigger_message_id')

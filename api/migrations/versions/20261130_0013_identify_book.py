"""Identifying a patient from a handover, lowering a red flag for clinician review, and a
keyword's answer tied to the keyword (so both join the conversation's transcript).

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30 15:00:00

(Branch identify-book: the merger renumbers.)
"""

import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

UNASSIGNED = "conversation_id IS NULL AND direction = 'inbound'"


def upgrade() -> None:
    with op.batch_alter_table('handover') as batch:
        batch.add_column(sa.Column('identity_check', sa.String(length=32), nullable=True))
        batch.add_column(sa.Column('identity_on_conversation_number', sa.Boolean(),
                                   nullable=True))
        batch.add_column(sa.Column('identity_checked_by', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('identity_checked_at', sa.DateTime(timezone=True),
                                   nullable=True))
        batch.create_foreign_key('fk_handover_identity_checked_by_staff_user', 'staff_user',
                                 ['identity_checked_by'], ['id'])
    with op.batch_alter_table('message') as batch:
        batch.add_column(sa.Column('reply_to_id', sa.Integer(), nullable=True))
        batch.create_index('ix_message_reply_to_id', ['reply_to_id'])
    op.create_index('ix_message_unassigned_inbound', 'message', ['id'],
                    sqlite_where=sa.text(UNASSIGNED), postgresql_where=sa.text(UNASSIGNED))
    op.create_table(
        'red_flag_review',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('handover_id', sa.Integer(), sa.ForeignKey('handover.id'), nullable=False,
                  index=True),
        sa.Column('lowered_by', sa.Integer(), sa.ForeignKey('staff_user.id'), nullable=False),
        sa.Column('lowered_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('previous_urgency', sa.String(length=32), nullable=False),
        sa.Column('status', sa.String(length=32), nullable=False, index=True),
        sa.Column('reviewed_by', sa.Integer(), sa.ForeignKey('staff_user.id'), nullable=True),
        sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('review_note', sa.Text(), nullable=True),
    )


def downgrade() -> None:
    op.drop_table('red_flag_review')
    op.drop_index('ix_message_unassigned_inbound', table_name='message')
    with op.batch_alter_table('message') as batch:
        batch.drop_index('ix_message_reply_to_id')
        batch.drop_column('reply_to_id')
    with op.batch_alter_table('handover') as batch:
        batch.drop_constraint('fk_handover_identity_checked_by_staff_user', type_='foreignkey')
        batch.drop_column('identity_checked_at')
        batch.drop_column('identity_checked_by')
        batch.drop_column('identity_on_conversation_number')
        batch.drop_column('identity_check')

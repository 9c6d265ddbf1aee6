"""Campaigns and their recipients; email subjects on messages.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 07:33:54.096526
"""

from alembic import op
import sqlalchemy as sa



revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('campaign',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('disruption_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('draft', 'sending', 'paused', 'cancelled', 'completed', name='campaignstatus', native_enum=False, length=32), nullable=False),
    sa.Column('filters', sa.JSON(), nullable=False),
    sa.Column('sms_template', sa.Text(), nullable=False),
    sa.Column('email_subject', sa.String(length=200), nullable=False),
    sa.Column('email_template', sa.Text(), nullable=False),
    sa.Column('whatsapp_content_sid', sa.String(length=64), nullable=True),
    sa.Column('whatsapp_variables', sa.JSON(), nullable=False),
    sa.Column('chaser_after_hours', sa.Integer(), nullable=False),
    sa.Column('call_after_chaser_hours', sa.Integer(), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['disruption_id'], ['disruption.id'], name=op.f('fk_campaign_disruption_id_disruption')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaign'))
    )
    op.create_table('campaign_recipient',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('route', sa.Enum('whatsapp', 'sms', 'email', 'call_list', name='recipientroute', native_enum=False, length=32), nullable=False),
    sa.Column('address', sa.String(length=254), nullable=True),
    sa.Column('call_reason', sa.Enum('no_contact_route', 'opted_out', 'communication_needs', 'no_reply', 'undeliverable', name='callreason', native_enum=False, length=32), nullable=True),
    sa.Column('message_id', sa.Integer(), nullable=True),
    sa.Column('chaser_message_id', sa.Integer(), nullable=True),
    sa.Column('queued_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('replied_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('chased_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], name=op.f('fk_campaign_recipient_campaign_id_campaign'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['chaser_message_id'], ['message.id'], name=op.f('fk_campaign_recipient_chaser_message_id_message')),
    sa.ForeignKeyConstraint(['message_id'], ['message.id'], name=op.f('fk_campaign_recipient_message_id_message')),
    sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], name=op.f('fk_campaign_recipient_patient_id_patient')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaign_recipient')),
    sa.UniqueConstraint('campaign_id', 'patient_id', name='campaign_patient')
    )
    with op.batch_alter_table('campaign_recipient', schema=None) as batch_op:
        batch_op.create_index('ix_campaign_recipient_campaign_route', ['campaign_id', 'route'], unique=False)

    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('subject', sa.String(length=200), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.drop_column('subject')

    with op.batch_alter_table('campaign_recipient', schema=None) as batch_op:
        batch_op.drop_index('ix_campaign_recipient_campaign_route')

    op.drop_table('campaign_recipient')
    op.drop_table('campaign')

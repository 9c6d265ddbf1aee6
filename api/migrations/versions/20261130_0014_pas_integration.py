"""The hospital's PAS: inbound store, identifier links, write-back outbox, sync cursors,
integration exceptions; deceased and restricted patients.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30 16:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def _when(name: str, **kw) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), **kw)


def upgrade() -> None:
    with op.batch_alter_table('patient') as batch:
        batch.add_column(_when('deceased_at', nullable=True))
        batch.add_column(sa.Column('restricted', sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
    op.create_table(
        'pas_inbound',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('adapter', sa.String(length=32), nullable=False),
        sa.Column('message_id', sa.String(length=200), nullable=False),
        sa.Column('message_type', sa.String(length=40), nullable=False),
        _when('event_at', nullable=True),
        _when('received_at', nullable=False),
        sa.Column('raw', sa.Text(), nullable=False),
        sa.Column('status', sa.String(length=32), nullable=False),
        sa.Column('outcome', sa.Text(), nullable=False),
        _when('processed_at', nullable=True),
        sa.UniqueConstraint('adapter', 'message_id', name='uq_pas_inbound_message'),
    )
    op.create_index('ix_pas_inbound_pending', 'pas_inbound', ['status', 'id'])
    op.create_index('ix_pas_inbound_received_at', 'pas_inbound', ['received_at'])
    op.create_table(
        'pas_link',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('pas_id', sa.String(length=120), nullable=False),
        sa.Column('local_id', sa.Integer(), nullable=False),
        sa.Column('adapter', sa.String(length=32), nullable=False),
        _when('event_at', nullable=True),
        sa.Column('version', sa.String(length=64), nullable=True),
        _when('updated_at', nullable=False),
        sa.UniqueConstraint('kind', 'pas_id', name='uq_pas_link_kind_pas_id'),
    )
    op.create_index('ix_pas_link_local', 'pas_link', ['kind', 'local_id'])
    op.create_table(
        'pas_request',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('adapter', sa.String(length=32), nullable=False),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('status', sa.String(length=32), nullable=False),
        sa.Column('appointment_id', sa.Integer(), sa.ForeignKey('appointment.id'),
                  nullable=False),
        sa.Column('patient_id', sa.Integer(), sa.ForeignKey('patient.id'), nullable=False),
        sa.Column('slot_id', sa.Integer(), sa.ForeignKey('slot.id'), nullable=True),
        sa.Column('offer_id', sa.Integer(), sa.ForeignKey('offer.id'), nullable=True),
        sa.Column('conversation_id', sa.Integer(), sa.ForeignKey('conversation.id'),
                  nullable=True),
        sa.Column('idempotency_key', sa.String(length=120), nullable=False, unique=True),
        sa.Column('attempts', sa.Integer(), nullable=False),
        _when('next_attempt_at', nullable=False),
        sa.Column('lease_owner', sa.String(length=120), nullable=True),
        _when('lease_until', nullable=True),
        sa.Column('pas_reference', sa.String(length=120), nullable=True),
        sa.Column('last_error', sa.Text(), nullable=False),
        _when('created_at', nullable=False),
        _when('decided_at', nullable=True),
    )
    op.create_index('ix_pas_request_due', 'pas_request', ['status', 'next_attempt_at'])
    op.create_index('ix_pas_request_appointment_id', 'pas_request', ['appointment_id'])
    op.create_table(
        'sync_cursor',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('adapter', sa.String(length=32), nullable=False),
        sa.Column('resource', sa.String(length=40), nullable=False),
        sa.Column('last_updated', sa.String(length=40), nullable=False),
        _when('synced_at', nullable=True),
        sa.Column('last_error', sa.Text(), nullable=False),
        _when('last_error_at', nullable=True),
        sa.UniqueConstraint('adapter', 'resource', name='uq_sync_cursor'),
    )
    op.create_table(
        'integration_exception',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('adapter', sa.String(length=32), nullable=False),
        sa.Column('reason', sa.String(length=40), nullable=False),
        sa.Column('detail', sa.Text(), nullable=False),
        sa.Column('inbound_id', sa.Integer(), sa.ForeignKey('pas_inbound.id'), nullable=True),
        sa.Column('request_id', sa.Integer(), sa.ForeignKey('pas_request.id'), nullable=True),
        sa.Column('patient_id', sa.Integer(), sa.ForeignKey('patient.id'), nullable=True),
        sa.Column('appointment_id', sa.Integer(), sa.ForeignKey('appointment.id'),
                  nullable=True),
        sa.Column('raw', sa.Text(), nullable=False),
        sa.Column('status', sa.String(length=32), nullable=False),
        _when('created_at', nullable=False),
        sa.Column('resolved_by', sa.Integer(), sa.ForeignKey('staff_user.id'), nullable=True),
        _when('resolved_at', nullable=True),
        sa.Column('resolution', sa.Text(), nullable=False),
    )
    op.create_index('ix_integration_exception_open', 'integration_exception',
                    ['status', 'created_at'])
    op.create_index('ix_integration_exception_reason', 'integration_exception', ['reason'])


def downgrade() -> None:
    op.drop_table('integration_exception')
    op.drop_table('sync_cursor')
    op.drop_table('pas_request')
    op.drop_table('pas_link')
    op.drop_table('pas_inbound')
    with op.batch_alter_table('patient') as batch:
        batch.drop_column('restricted')
        batch.drop_column('deceased_at')

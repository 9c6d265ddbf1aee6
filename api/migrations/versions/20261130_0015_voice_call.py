"""The phone line: one row per call, and date-of-birth failures counted per patient.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-30 20:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def _when(name: str, **kw) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), **kw)


def upgrade() -> None:
    op.create_table(
        'voice_call',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('call_sid', sa.String(length=64), nullable=False),
        sa.Column('conversation_id', sa.Integer(), sa.ForeignKey('conversation.id'),
                  nullable=False),
        sa.Column('caller', sa.String(length=40), nullable=False),
        sa.Column('withheld', sa.Boolean(), nullable=False),
        sa.Column('patient_id', sa.Integer(), sa.ForeignKey('patient.id'), nullable=True),
        sa.Column('stage', sa.String(length=32), nullable=False),
        sa.Column('seq', sa.Integer(), nullable=False),
        sa.Column('answered_seq', sa.Integer(), nullable=False),
        sa.Column('silences', sa.Integer(), nullable=False),
        sa.Column('unclear', sa.Integer(), nullable=False),
        sa.Column('identity_failures', sa.Integer(), nullable=False),
        sa.Column('last_said', sa.JSON(), nullable=False),
        sa.Column('options', sa.JSON(), nullable=False),
        sa.Column('pending', sa.JSON(), nullable=False),
        sa.Column('last_twiml', sa.Text(), nullable=False),
        sa.Column('outcome', sa.String(length=32), nullable=True),
        sa.Column('handover_id', sa.Integer(), sa.ForeignKey('handover.id'), nullable=True),
        _when('started_at', nullable=False),
        _when('ended_at', nullable=True),
        sa.Column('duration_seconds', sa.Integer(), nullable=True),
        sa.Column('twilio_status', sa.String(length=32), nullable=False),
        sa.UniqueConstraint('call_sid', name='uq_voice_call_call_sid'),
    )
    op.create_index('ix_voice_call_conversation_id', 'voice_call', ['conversation_id'])
    op.create_index('ix_voice_call_patient_id', 'voice_call', ['patient_id'])
    op.create_table(
        'voice_identity_failure',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('patient_id', sa.Integer(), sa.ForeignKey('patient.id'), nullable=False),
        sa.Column('call_id', sa.Integer(), sa.ForeignKey('voice_call.id'), nullable=False),
        _when('failed_at', nullable=False),
    )
    op.create_index('ix_voice_identity_failure_patient_id', 'voice_identity_failure',
                    ['patient_id'])


def downgrade() -> None:
    op.drop_table('voice_identity_failure')
    op.drop_table('voice_call')

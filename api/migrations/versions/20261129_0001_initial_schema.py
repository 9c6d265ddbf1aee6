"""Initial schema: patients, capacity, appointments, messaging, handover, staff, audit.

Revision ID: 0001
Revises: (none: the first table)
Create Date: 2026-11-29 06:47:46.666072
"""

from alembic import op
import sqlalchemy as sa



revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('disruption',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('staff_group', sa.String(length=80), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('ends_at > starts_at', name=op.f('ck_disruption_ends_after_start')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_disruption'))
    )
    op.create_table('patient',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('nhs_number', sa.String(length=10), nullable=False),
    sa.Column('given_name', sa.String(length=100), nullable=False),
    sa.Column('family_name', sa.String(length=100), nullable=False),
    sa.Column('date_of_birth', sa.Date(), nullable=False),
    sa.Column('postcode', sa.String(length=8), nullable=False),
    sa.Column('mobile', sa.String(length=16), nullable=True),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('whatsapp_opt_in', sa.Boolean(), nullable=False),
    sa.Column('preferred_language', sa.String(length=8), nullable=False),
    sa.Column('communication_needs', sa.JSON(), nullable=False),
    sa.Column('communication_notes', sa.Text(), nullable=True),
    sa.Column('vulnerable', sa.Boolean(), nullable=False),
    sa.Column('opted_out', sa.Boolean(), nullable=False),
    sa.Column('opted_out_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_patient')),
    sa.UniqueConstraint('nhs_number', name=op.f('uq_patient_nhs_number'))
    )
    with op.batch_alter_table('patient', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_patient_mobile'), ['mobile'], unique=False)

    op.create_table('site',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('address', sa.Text(), nullable=False),
    sa.Column('postcode', sa.String(length=8), nullable=False),
    sa.Column('step_free_access', sa.Boolean(), nullable=False),
    sa.Column('parking', sa.Text(), nullable=False),
    sa.Column('transport', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_site')),
    sa.UniqueConstraint('code', name=op.f('uq_site_code'))
    )
    op.create_table('specialty',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('surgical', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_specialty')),
    sa.UniqueConstraint('code', name=op.f('uq_specialty_code'))
    )
    op.create_table('staff_user',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('display_name', sa.String(length=120), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('role', sa.Enum('clerk', 'clinician', 'admin', name='role', native_enum=False, length=32), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('failed_logins', sa.Integer(), nullable=False),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_user')),
    sa.UniqueConstraint('username', name=op.f('uq_staff_user_username'))
    )
    op.create_table('api_key',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('key_hash', sa.String(length=255), nullable=False),
    sa.Column('staff_user_id', sa.Integer(), nullable=False),
    sa.Column('label', sa.String(length=120), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['staff_user_id'], ['staff_user.id'], name=op.f('fk_api_key_staff_user_id_staff_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_key')),
    sa.UniqueConstraint('prefix', name=op.f('uq_api_key_prefix'))
    )
    op.create_table('audit_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('object_type', sa.String(length=32), nullable=False),
    sa.Column('object_id', sa.String(length=64), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=True),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], name=op.f('fk_audit_event_patient_id_patient')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_event'))
    )
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.create_index('ix_audit_event_object', ['object_type', 'object_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_event_occurred_at'), ['occurred_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_event_patient_id'), ['patient_id'], unique=False)

    op.create_table('clinician',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('specialty_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['specialty_id'], ['specialty.id'], name=op.f('fk_clinician_specialty_id_specialty')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_clinician')),
    sa.UniqueConstraint('code', name=op.f('uq_clinician_code'))
    )
    op.create_table('conversation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('public_id', sa.String(length=32), nullable=False),
    sa.Column('channel', sa.Enum('sms', 'whatsapp', 'email', name='channel', native_enum=False, length=32), nullable=False),
    sa.Column('address', sa.String(length=40), nullable=False),
    sa.Column('state', sa.Enum('active', 'closed', name='conversationstate', native_enum=False, length=32), nullable=False),
    sa.Column('verified_patient_id', sa.Integer(), nullable=True),
    sa.Column('verified_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('failed_identity_attempts', sa.Integer(), nullable=False),
    sa.Column('last_inbound_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('lease_owner', sa.String(length=64), nullable=True),
    sa.Column('lease_expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['verified_patient_id'], ['patient.id'], name=op.f('fk_conversation_verified_patient_id_patient')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_conversation')),
    sa.UniqueConstraint('channel', 'address', name='channel_address'),
    sa.UniqueConstraint('public_id', name=op.f('uq_conversation_public_id'))
    )
    op.create_table('disruption_site',
    sa.Column('disruption_id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['disruption_id'], ['disruption.id'], name=op.f('fk_disruption_site_disruption_id_disruption'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['site_id'], ['site.id'], name=op.f('fk_disruption_site_site_id_site')),
    sa.PrimaryKeyConstraint('disruption_id', 'site_id', name=op.f('pk_disruption_site'))
    )
    op.create_table('disruption_specialty',
    sa.Column('disruption_id', sa.Integer(), nullable=False),
    sa.Column('specialty_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['disruption_id'], ['disruption.id'], name=op.f('fk_disruption_specialty_disruption_id_disruption'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['specialty_id'], ['specialty.id'], name=op.f('fk_disruption_specialty_specialty_id_specialty')),
    sa.PrimaryKeyConstraint('disruption_id', 'specialty_id', name=op.f('pk_disruption_specialty'))
    )
    op.create_table('clinic_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('clinic', 'theatre_list', name='sessionkind', native_enum=False, length=32), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('specialty_id', sa.Integer(), nullable=False),
    sa.Column('clinician_id', sa.Integer(), nullable=True),
    sa.Column('location', sa.String(length=80), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('short_notice', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('ends_at > starts_at', name=op.f('ck_clinic_session_ends_after_start')),
    sa.ForeignKeyConstraint(['clinician_id'], ['clinician.id'], name=op.f('fk_clinic_session_clinician_id_clinician')),
    sa.ForeignKeyConstraint(['site_id'], ['site.id'], name=op.f('fk_clinic_session_site_id_site')),
    sa.ForeignKeyConstraint(['specialty_id'], ['specialty.id'], name=op.f('fk_clinic_session_specialty_id_specialty')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_clinic_session'))
    )
    with op.batch_alter_table('clinic_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_clinic_session_starts_at'), ['starts_at'], unique=False)

    op.create_table('message',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('conversation_id', sa.Integer(), nullable=True),
    sa.Column('patient_id', sa.Integer(), nullable=True),
    sa.Column('direction', sa.Enum('inbound', 'outbound', name='direction', native_enum=False, length=32), nullable=False),
    sa.Column('channel', sa.Enum('sms', 'whatsapp', 'email', name='channel', native_enum=False, length=32), nullable=False),
    sa.Column('from_address', sa.String(length=254), nullable=False),
    sa.Column('to_address', sa.String(length=254), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('provider_sid', sa.String(length=64), nullable=True),
    sa.Column('status', sa.Enum('received', 'processed', 'queued', 'sending', 'sent', 'delivered', 'read', 'undelivered', 'failed', 'parked', name='messagestatus', native_enum=False, length=32), nullable=False),
    sa.Column('category', sa.Enum('patient', 'reply', 'staff_reply', 'notification', 'safety_net', 'holding', 'service', name='messagecategory', native_enum=False, length=32), nullable=False),
    sa.Column('error_code', sa.Integer(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('content_sid', sa.String(length=64), nullable=True),
    sa.Column('content_variables', sa.JSON(), nullable=True),
    sa.Column('idempotency_key', sa.String(length=128), nullable=True),
    sa.Column('media', sa.JSON(), nullable=True),
    sa.Column('buttons', sa.JSON(), nullable=True),
    sa.Column('claimed_by', sa.String(length=64), nullable=True),
    sa.Column('claimed_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('failure_handled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversation.id'], name=op.f('fk_message_conversation_id_conversation')),
    sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], name=op.f('fk_message_patient_id_patient')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_message')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_message_idempotency_key')),
    sa.UniqueConstraint('provider_sid', name=op.f('uq_message_provider_sid'))
    )
    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.create_index('ix_message_conversation', ['conversation_id', 'id'], unique=False)
        batch_op.create_index('ix_message_outbox', ['direction', 'status', 'next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_message_patient_id'), ['patient_id'], unique=False)

    op.create_table('slot',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=True),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('specialty_id', sa.Integer(), nullable=False),
    sa.Column('clinician_id', sa.Integer(), nullable=True),
    sa.Column('type', sa.Enum('outpatient', 'procedure', 'theatre', name='appointmenttype', native_enum=False, length=32), nullable=False),
    sa.Column('start_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('duration_minutes', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('free', 'held', 'booked', 'blocked', name='slotstatus', native_enum=False, length=32), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint('duration_minutes > 0', name=op.f('ck_slot_positive_duration')),
    sa.ForeignKeyConstraint(['clinician_id'], ['clinician.id'], name=op.f('fk_slot_clinician_id_clinician')),
    sa.ForeignKeyConstraint(['session_id'], ['clinic_session.id'], name=op.f('fk_slot_session_id_clinic_session')),
    sa.ForeignKeyConstraint(['site_id'], ['site.id'], name=op.f('fk_slot_site_id_site')),
    sa.ForeignKeyConstraint(['specialty_id'], ['specialty.id'], name=op.f('fk_slot_specialty_id_specialty')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_slot'))
    )
    with op.batch_alter_table('slot', schema=None) as batch_op:
        batch_op.create_index('ix_slot_match', ['specialty_id', 'type', 'status', 'start_at'], unique=False)

    op.create_table('appointment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('slot_id', sa.Integer(), nullable=True),
    sa.Column('specialty_id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=True),
    sa.Column('clinician_id', sa.Integer(), nullable=True),
    sa.Column('requires_named_clinician', sa.Boolean(), nullable=False),
    sa.Column('type', sa.Enum('outpatient', 'procedure', 'theatre', name='appointmenttype', native_enum=False, length=32), nullable=False),
    sa.Column('duration_minutes', sa.Integer(), nullable=False),
    sa.Column('priority', sa.Enum('P1a', 'P1b', 'P2', 'P3', 'P4', 'urgent', 'suspected_cancer', 'routine', name='priority', native_enum=False, length=32), nullable=False),
    sa.Column('pathway', sa.Enum('rtt', 'cancer_fds', 'cancer_62', name='pathway', native_enum=False, length=32), nullable=False),
    sa.Column('referral_date', sa.Date(), nullable=False),
    sa.Column('breach_date', sa.Date(), nullable=False),
    sa.Column('times_postponed', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('booked', 'postponed', 'offered', 'rebooked', 'pending_clinical_review', 'cancelled', 'attended', name='appointmentstatus', native_enum=False, length=32), nullable=False),
    sa.Column('disruption_id', sa.Integer(), nullable=True),
    sa.Column('interpreter_language', sa.String(length=40), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['clinician_id'], ['clinician.id'], name=op.f('fk_appointment_clinician_id_clinician')),
    sa.ForeignKeyConstraint(['disruption_id'], ['disruption.id'], name=op.f('fk_appointment_disruption_id_disruption')),
    sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], name=op.f('fk_appointment_patient_id_patient')),
    sa.ForeignKeyConstraint(['site_id'], ['site.id'], name=op.f('fk_appointment_site_id_site')),
    sa.ForeignKeyConstraint(['slot_id'], ['slot.id'], name=op.f('fk_appointment_slot_id_slot')),
    sa.ForeignKeyConstraint(['specialty_id'], ['specialty.id'], name=op.f('fk_appointment_specialty_id_specialty')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_appointment'))
    )
    with op.batch_alter_table('appointment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_appointment_disruption_id'), ['disruption_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_appointment_patient_id'), ['patient_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_appointment_slot_id'), ['slot_id'], unique=False)
        batch_op.create_index('ix_appointment_status_priority', ['status', 'priority'], unique=False)

    op.create_table('appointment_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('appointment_id', sa.Integer(), nullable=False),
    sa.Column('from_status', sa.Enum('booked', 'postponed', 'offered', 'rebooked', 'pending_clinical_review', 'cancelled', 'attended', name='appointmentstatus', native_enum=False, length=32), nullable=True),
    sa.Column('to_status', sa.Enum('booked', 'postponed', 'offered', 'rebooked', 'pending_clinical_review', 'cancelled', 'attended', name='appointmentstatus', native_enum=False, length=32), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('slot_id', sa.Integer(), nullable=True),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['appointment_id'], ['appointment.id'], name=op.f('fk_appointment_event_appointment_id_appointment'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['slot_id'], ['slot.id'], name=op.f('fk_appointment_event_slot_id_slot')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_appointment_event'))
    )
    with op.batch_alter_table('appointment_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_appointment_event_appointment_id'), ['appointment_id'], unique=False)

    op.create_table('handover',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('conversation_id', sa.Integer(), nullable=True),
    sa.Column('patient_id', sa.Integer(), nullable=True),
    sa.Column('appointment_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.Enum('red_flag', 'asked_for_person', 'not_understood', 'identity_lockout', 'complaint', 'clinical_review', 'delivery_failure', 'communication_needs', 'assistant_unavailable', name='handoverreason', native_enum=False, length=32), nullable=False),
    sa.Column('urgency', sa.Enum('urgent', 'high', 'normal', name='urgency', native_enum=False, length=32), nullable=False),
    sa.Column('status', sa.Enum('open', 'claimed', 'waiting_for_patient', 'resolved', name='handoverstatus', native_enum=False, length=32), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('assignee_id', sa.Integer(), nullable=True),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('created_by', sa.String(length=32), nullable=False),
    sa.Column('resolution', sa.String(length=32), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['appointment_id'], ['appointment.id'], name=op.f('fk_handover_appointment_id_appointment')),
    sa.ForeignKeyConstraint(['assignee_id'], ['staff_user.id'], name=op.f('fk_handover_assignee_id_staff_user')),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversation.id'], name=op.f('fk_handover_conversation_id_conversation')),
    sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], name=op.f('fk_handover_patient_id_patient')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_handover'))
    )
    with op.batch_alter_table('handover', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_handover_conversation_id'), ['conversation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_handover_patient_id'), ['patient_id'], unique=False)
        batch_op.create_index('ix_handover_queue', ['status', 'urgency', 'due_at'], unique=False)

    op.create_table('offer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('appointment_id', sa.Integer(), nullable=False),
    sa.Column('slot_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('held', 'accepted', 'declined', 'expired', 'withdrawn', name='offerstatus', native_enum=False, length=32), nullable=False),
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['appointment_id'], ['appointment.id'], name=op.f('fk_offer_appointment_id_appointment')),
    sa.ForeignKeyConstraint(['slot_id'], ['slot.id'], name=op.f('fk_offer_slot_id_slot')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_offer'))
    )
    with op.batch_alter_table('offer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_offer_appointment_id'), ['appointment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_offer_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_offer_slot_id'), ['slot_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('offer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_offer_slot_id'))
        batch_op.drop_index(batch_op.f('ix_offer_expires_at'))
        batch_op.drop_index(batch_op.f('ix_offer_appointment_id'))

    op.drop_table('offer')
    with op.batch_alter_table('handover', schema=None) as batch_op:
        batch_op.drop_index('ix_handover_queue')
        batch_op.drop_index(batch_op.f('ix_handover_patient_id'))
        batch_op.drop_index(batch_op.f('ix_handover_conversation_id'))

    op.drop_table('handover')
    with op.batch_alter_table('appointment_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_appointment_event_appointment_id'))

    op.drop_table('appointment_event')
    with op.batch_alter_table('appointment', schema=None) as batch_op:
        batch_op.drop_index('ix_appointment_status_priority')
        batch_op.drop_index(batch_op.f('ix_appointment_slot_id'))
        batch_op.drop_index(batch_op.f('ix_appointment_patient_id'))
        batch_op.drop_index(batch_op.f('ix_appointment_disruption_id'))

    op.drop_table('appointment')
    with op.batch_alter_table('slot', schema=None) as batch_op:
        batch_op.drop_index('ix_slot_match')

    op.drop_table('slot')
    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_message_patient_id'))
        batch_op.drop_index('ix_message_outbox')
        batch_op.drop_index('ix_message_conversation')

    op.drop_table('message')
    with op.batch_alter_table('clinic_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_clinic_session_starts_at'))

    op.drop_table('clinic_session')
    op.drop_table('disruption_specialty')
    op.drop_table('disruption_site')
    op.drop_table('conversation')
    op.drop_table('clinician')
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_event_patient_id'))
        batch_op.drop_index(batch_op.f('ix_audit_event_occurred_at'))
        batch_op.drop_index('ix_audit_event_object')

    op.drop_table('audit_event')
    op.drop_table('api_key')
    op.drop_table('staff_user')
    op.drop_table('specialty')
    op.drop_table('site')
    with op.batch_alter_table('patient', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_patient_mobile'))

    op.drop_table('patient')
    op.drop_table('disruption')

"""Imports every table so the metadata is complete (Alembic, tests, relationships by name)."""

from api.appointments.models import Appointment, AppointmentEvent
from api.audit.models import AuditEvent
from api.campaigns.models import Campaign, CampaignRecipient
from api.conversations.models import Conversation
from api.db import Base
from api.handover.models import Handover, OnCallAlert
from api.integration.models import (
    IntegrationException,
    PasInbound,
    PasLink,
    PasRequest,
    SyncCursor,
)
from api.messaging.models import Message, OptOut
from api.patients.models import Patient
from api.reference.models import Clinician, Site, Specialty
from api.scheduling.models import ClinicSession, Disruption, Offer, Slot
from api.staff.models import ApiKey, StaffUser
from api.system.models import LeaderLease
from api.voice.models import IdentityFailure, VoiceCall

__all__ = [
    "ApiKey", "Appointment", "AppointmentEvent", "AuditEvent", "Base", "Campaign",
    "CampaignRecipient", "ClinicSession", "IdentityFailure",
    "Clinician", "Conversation", "Disruption", "Handover", "IntegrationException", "LeaderLease",
    "Message",
    "Offer", "OnCallAlert", "OptOut", "PasInbound", "PasLink", "PasRequest", "Patient",
    "SyncCursor",
    "Site", "Slot", "Specialty", "StaffUser", "VoiceCall",
]

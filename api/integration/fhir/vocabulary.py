"""The FHIR systems, extension URLs and code tables Rebook reads and writes (docs/integration.md
lists them for the trust's integration team)."""

from __future__ import annotations

from api.appointments.models import Priority

NHS_NUMBER = "https://fhir.nhs.uk/Id/nhs-number"
# The trust's own codes (as in Rebook's reference data): a trust whose PAS uses national
# systems (ODS site codes, treatment function codes) maps them to these in its engine.
SITE = "https://rebook.example.nhs.uk/Id/site"
CLINICIAN = "https://rebook.example.nhs.uk/Id/clinician"
SPECIALTY = "https://rebook.example.nhs.uk/CodeSystem/specialty"
APPOINTMENT_TYPE = "https://rebook.example.nhs.uk/CodeSystem/appointment-type"
PRIORITY_CODES = "https://rebook.example.nhs.uk/CodeSystem/priority"
LANGUAGE = "urn:ietf:bcp:47"
CONFIDENTIALITY = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"
RESTRICTED_LABELS = frozenset({"R", "V"})  # restricted, very restricted

_EXT = "https://rebook.example.nhs.uk/fhir/StructureDefinition/"
EXT_PRIORITY = _EXT + "priority"  # valueCoding: Rebook's priority word
EXT_PATHWAY = _EXT + "pathway"  # valueCode: rtt | cancer_fds | cancer_62
EXT_REFERRAL_DATE = _EXT + "referral-date"  # valueDate
EXT_BREACH_DATE = _EXT + "breach-date"  # valueDate
EXT_NAMED_CLINICIAN = _EXT + "requires-named-clinician"  # valueBoolean, only when true
EXT_COMMUNICATION_NEED = _EXT + "communication-need"  # valueCode, repeating
EXT_SESSION_KIND = _EXT + "session-kind"  # valueCode: clinic | theatre_list
EXT_SHORT_NOTICE = _EXT + "short-notice"  # valueBoolean, only when true
INTERPRETER_REQUIRED = "http://hl7.org/fhir/StructureDefinition/patient-interpreterRequired"

# Appointment.priority is an unsignedInt (0 undefined, 1 the most urgent). Each Rebook
# priority has its own number so the integer alone round-trips; the coded extension says it
# in words for anyone reading the resource.
PRIORITY_NUMBER = {Priority.P1A: 1, Priority.P1B: 2, Priority.SUSPECTED_CANCER: 3,
                   Priority.URGENT: 4, Priority.P2: 5, Priority.P3: 6, Priority.ROUTINE: 7,
                   Priority.P4: 8}
PRIORITY_OF_NUMBER = {number: priority for priority, number in PRIORITY_NUMBER.items()}

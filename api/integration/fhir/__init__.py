"""FHIR R4 (UK Core) adapter: pull Patient, Appointment, Schedule and Slot; write bookings
back as transaction Bundles. Resources are validated with fhir.resources' R4B models."""

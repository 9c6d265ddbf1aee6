"""The hospital's Patient Administration System: FHIR R4, HL7 v2 over MLLP and CSV adapters
that map the PAS's data to one inbound model (`records`), applied by `reconcile`; bookings go
back through the `PasRequest` outbox (docs/integration.md)."""

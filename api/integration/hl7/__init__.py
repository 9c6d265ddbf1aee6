"""HL7 v2 over MLLP adapter: ADT and SIU in (persisted, then acknowledged), SRM out."""

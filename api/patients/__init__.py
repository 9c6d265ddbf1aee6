"""Patients: identity, contact routes and communication needs."""

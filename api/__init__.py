"""Rebook: the patient-messaging assistant's service package."""

"""Scheduling: sites, clinics, slots, disruptions and offers; the rescheduling engine."""

"""Handover: the bookings team's queue of conversations the assistant must not handle."""

"""Appointments: clinical priority, pathway targets and status with full history."""

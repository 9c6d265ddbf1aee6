"""Audit: who saw or did what to whose record, and when."""

"""Reporting: how fast the backlog is clearing and who is at risk."""

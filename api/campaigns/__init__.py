"""Campaigns: tell every affected patient, once, at a sensible hour; chase; remind."""

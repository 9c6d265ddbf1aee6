"""Flows: the use cases that cross domains, composed from the domains' service verbs.

A flow sits above the domains (nothing in a domain imports it) and below the edges (views,
the worker, jobs, actions), which call it and commit. See docs/architecture.md, "Flows".
"""

"""Conversations: one thread per patient address and channel; the worker and Rasa client.

Whoever opens a handover on a conversation passes its facts (`service.facts_of`): the handover
domain sits below this one and never reads a conversation itself.
"""

"""Conversations: one thread per patient address and channel; the worker and Rasa client."""

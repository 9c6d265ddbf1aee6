"""Conversations: one thread per patient address and channel; the worker and Rasa client.

Importing the package registers how the handover domain (below this one) reads a
conversation's facts (`service.handover_facts`), so whatever process touches a conversation
can open and work handovers on it.
"""

from api.conversations import service as _service  # noqa: F401  (registers handover_facts)

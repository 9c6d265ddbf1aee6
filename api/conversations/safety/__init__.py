"""The red-flag safety screen: every inbound message, whatever the dialogue state."""

from api.conversations.safety.screen import (
    CATEGORIES,
    ScreenResult,
    reply_group,
    screen,
    warm_up,
)

__all__ = ["CATEGORIES", "ScreenResult", "reply_group", "screen", "warm_up"]

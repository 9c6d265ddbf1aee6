"""The phone line: Twilio Voice as another channel on the same conversation, safety screen,
assistant and handover queue. Only the rendering differs: speech and the keypad."""

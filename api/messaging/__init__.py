"""Messaging: Twilio in and out, the outbox, the sandbox."""

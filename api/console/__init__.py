"""The bookings team's web console: sign in, the handover queue, a conversation, the audit log."""

"""CSV adapter: the waiting-list extract and the capacity file in, bookings out for upload."""

"""Reference data: sites, specialties, clinicians, kinds of appointment."""

"""The deterministic synthetic demo trust ("Northshire"): sites, clinics, patients, a strike."""

"""Data protection: retention and purge, subject access exports."""

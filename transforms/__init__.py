"""Readers and normalizers: each partner's native format into one canonical model."""

"""Consent and privacy: per-purpose consent, checked at the point of use."""

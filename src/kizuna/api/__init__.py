"""The HTTP API: Segment-compatible tracking, the snippet, profiles and privacy requests."""

from kizuna.api.app import app_from_environment, create_app

__all__ = ["app_from_environment", "create_app"]

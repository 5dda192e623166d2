"""Retargeting audiences for ad platforms: Google Customer Match, Meta Custom Audiences and LINE.

:func:`export_audience` writes a segment's (or an outbox audience's) members who allow ``ads`` now, in the
platform's upload format, with adds and removals since the previous export. One module per platform
(``google``, ``meta``, ``line``) lays out its file; ``normalise`` holds the shared normalising and hashing.
"""

from kizuna.channels.audiences.export import PLATFORMS, ExportResult, export_audience
from kizuna.channels.audiences.google import write_google
from kizuna.channels.audiences.line import write_line
from kizuna.channels.audiences.members import Audience, AudienceCustomer, load_audience
from kizuna.channels.audiences.meta import write_meta

__all__ = [
    "PLATFORMS",
    "Audience",
    "AudienceCustomer",
    "ExportResult",
    "export_audience",
    "load_audience",
    "write_google",
    "write_line",
    "write_meta",
]

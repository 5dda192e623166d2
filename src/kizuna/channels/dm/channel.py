"""The direct mail channel: one delivery rendered as a print-ready PDF piece, and spooled as a file.

Print batches (``kizuna dm render``) are the usual way to paper; this channel serves the dispatcher
(``kizuna deliver``) where single pieces are wanted, say for a print-on-demand service that watches a
folder. It is available to the dispatcher only when ``KIZUNA_DM_SPOOL_DIR`` is set. Both claim rows the same
way, so the dispatcher and a batch never take the same delivery.

``render`` is pure: the PDF bytes depend only on the delivery, the customer and the context (ReportLab's
invariant mode leaves out dates and random ids). ``send`` writes ``<spool>/<key>.pdf`` (the key with every
character but letters, digits, ``.``, ``_`` and ``-`` written ``%XX``) through a temporary file and a rename:
sending the same delivery again replaces the file with the same bytes.
"""

from __future__ import annotations

import io
import os
import re
from pathlib import Path
from urllib.parse import quote, unquote

from kizuna.channels.base import (
    OutboxDelivery,
    PermanentError,
    Recipient,
    RenderContext,
    Rendered,
    TransientError,
)
from kizuna.channels.dm.draw import PieceRenderer, new_canvas
from kizuna.channels.dm.fonts import font_path, register_font
from kizuna.channels.dm.layout import DEFAULT_LAYOUT, Layout, find_layout, load_layout
from kizuna.channels.dm.piece import make_piece
from kizuna.channels.dm.sheet import PLAIN, PrintOptions
from kizuna.config import Settings, get_settings
from kizuna.errors import ConfigError
from kizuna.security.stored import link_secret

DELIVERY_HEADER = "X-Kizuna-Delivery"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


def spool_name(key: str) -> str:
    """The file name a delivery key is spooled under (reversible, safe on every file system)."""
    return _UNSAFE.sub(lambda m: quote(m.group(), safe=""), key) + ".pdf"


def key_of(file_name: str) -> str:
    """The delivery key of a spooled file's name."""
    return unquote(file_name.removesuffix(".pdf"))


class DirectMailChannel:
    """Renders ``direct_mail`` deliveries as single PDF pieces and writes them into a spool folder."""

    name = "direct_mail"
    purpose: str | None = "direct_mail"

    def __init__(
        self,
        *,
        spool_dir: Path,
        public_base_url: str,
        link_secret: str,
        settings: Settings | None = None,
        options: PrintOptions = PLAIN,
    ) -> None:
        self.spool_dir = spool_dir
        self.public_base_url = public_base_url.rstrip("/")
        self._secret = link_secret
        self._settings = settings or get_settings()
        self._font = register_font(font_path(self._settings))
        self._options = options
        self._renderers: dict[str, PieceRenderer] = {}

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> DirectMailChannel:
        """The channel as ``KIZUNA_DM_SPOOL_DIR`` and the link settings configure it."""
        settings = settings or get_settings()
        missing = [
            f"KIZUNA_{n.upper()}" for n in ("dm_spool_dir", "public_base_url")
            if getattr(settings, n) is None
        ]  # fmt: skip
        if missing:
            raise ConfigError(f"the direct_mail channel is not configured: set {', '.join(missing)}")
        assert settings.dm_spool_dir and settings.public_base_url
        return cls(
            spool_dir=settings.dm_spool_dir,
            public_base_url=settings.public_base_url,
            link_secret=link_secret(settings),
            settings=settings,
        )

    def _renderer(self, template: str | None) -> PieceRenderer:
        name = template if template and find_layout(template, self._settings) else DEFAULT_LAYOUT
        found = self._renderers.get(name)
        if found is None:
            try:
                layout: Layout = load_layout(name, self._settings)
            except ConfigError as exc:
                raise PermanentError(str(exc)) from exc
            found = PieceRenderer(layout, self._font, self._options, images_dir=self._settings.dm_images_dir)
            self._renderers[name] = found
        return found

    def render(self, delivery: OutboxDelivery, recipient: Recipient, context: RenderContext) -> Rendered:
        """One piece as PDF bytes, in the delivery's layout (``postcard`` when it names none that exists)."""
        piece = make_piece(delivery, recipient, context, base_url=self.public_base_url, secret=self._secret)
        renderer = self._renderer(delivery.template)
        buffer = io.BytesIO()
        canvas = new_canvas(buffer, renderer)
        canvas.setTitle(delivery.key)
        renderer.draw(canvas, piece)
        canvas.save()
        return Rendered(
            key=delivery.key,
            channel=self.name,
            target=str(self.spool_dir / spool_name(delivery.key)),
            body=buffer.getvalue(),
            media_type="application/pdf",
            headers={DELIVERY_HEADER: delivery.key},
        )

    def send(self, rendered: Rendered) -> None:
        """Write the piece to the spool folder (atomically; again, the same file)."""
        target = self.spool_dir / spool_name(rendered.key)
        partial = target.with_name(f".{target.name}.partial")
        try:
            self.spool_dir.mkdir(parents=True, exist_ok=True)
            partial.write_bytes(rendered.body)
            os.replace(partial, target)
        except OSError as exc:
            raise TransientError(f"direct mail spool {self.spool_dir}: {exc.strerror or exc}") from exc

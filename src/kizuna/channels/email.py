"""The email channel: each delivery rendered from Jinja2 templates into a multipart email and sent by SMTP.

Templates are pairs ``<template>.txt`` and ``<template>.html`` in ``KIZUNA_EMAIL_TEMPLATES_DIR`` (default:
the ones shipped in ``kizuna/channels/email_templates``); a delivery without a template uses ``default``.
The text template's first line is ``Subject: ...``: it becomes the subject and is not part of the text body.
Templates run in Jinja2's sandbox, the HTML one with autoescaping, so customer data can never run as code or
inject markup. Their variables are described by :func:`template_variables`.

Every message carries ``X-Kizuna-Delivery`` (the delivery key; the Message-ID is derived from it too, so a
resent message is recognisably the same one) and one-click unsubscribe headers (RFC 8058):
``List-Unsubscribe: <BASE/v1/unsubscribe/TOKEN>, <mailto:FROM?subject=unsubscribe%20TOKEN>`` and
``List-Unsubscribe-Post: List-Unsubscribe=One-Click``, where TOKEN is :func:`unsubscribe_token` of the key
(see ``kizuna.channels.tokens``).

Every HTML part gets the open pixel and click-tracked links (:mod:`kizuna.channels.email_tracking`);
``item.url`` is already a tracked link in both parts, ``item.product_url`` the page itself.

Sending: connection errors, timeouts and 4xx replies are retried later; 5xx replies and refused recipients
fail the delivery. ``KIZUNA_EMAIL_PER_MINUTE`` spaces sends evenly (the channel sleeps between them). One
SMTP connection serves a dispatch batch (checked with NOOP before each reuse); any failure closes it.
"""

from __future__ import annotations

import hashlib
import smtplib
import ssl
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, parseaddr
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote

import jinja2
from jinja2.sandbox import SandboxedEnvironment

from kizuna.channels.base import (
    OutboxDelivery,
    PermanentError,
    Recipient,
    RenderContext,
    Rendered,
    TransientError,
)
from kizuna.channels.email_tracking import LinkSigner, track_html
from kizuna.channels.email_variables import DEFAULT_TEMPLATE as DEFAULT_TEMPLATE
from kizuna.channels.email_variables import template_variables as template_variables
from kizuna.channels.email_variables import yen

# Re-exported: the names this module has always offered.
from kizuna.channels.tokens import UnsubscribeTokenError as UnsubscribeTokenError
from kizuna.channels.tokens import read_unsubscribe_token as read_unsubscribe_token
from kizuna.channels.tokens import unsubscribe_token as unsubscribe_token
from kizuna.config import Settings, get_settings
from kizuna.errors import ConfigError
from kizuna.security.stored import link_secret

DELIVERY_HEADER = "X-Kizuna-Delivery"

TEMPLATES_DIR = Path(__file__).with_name("email_templates")
MIN_SECRET_LENGTH = 16
TlsMode = Literal["none", "starttls", "tls"]
#: Long header lines stay whole: folding would encode the List-Unsubscribe URLs, which mail clients then miss.
_UNFOLDED = SMTP.clone(max_line_length=None)


class EmailChannel:
    """Sends deliveries of channel ``email`` by SMTP, at most ``per_minute`` a minute (see the module).

    ``clock`` (monotonic seconds) and ``sleep`` are what throttling uses; tests pass fakes.
    """

    name = "email"
    purpose: str | None = "email"

    def __init__(
        self,
        *,
        host: str,
        from_address: str,
        public_base_url: str,
        unsubscribe_secret: str,
        port: int = 587,
        tls: TlsMode = "starttls",
        username: str | None = None,
        password: str | None = None,
        timeout: float = 30.0,
        per_minute: int | None = None,
        templates_dir: Path | None = None,
        shop_product_url: str | None = None,
        reuse_seconds: float = 30.0,
        ssl_context: ssl.SSLContext | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        _, self.envelope_from = parseaddr(from_address)
        if "@" not in self.envelope_from:
            raise ConfigError(f"KIZUNA_EMAIL_FROM must be an email address, got {from_address!r}")
        if len(unsubscribe_secret) < MIN_SECRET_LENGTH:
            raise ConfigError(
                f"KIZUNA_LINK_SECRET must be at least {MIN_SECRET_LENGTH} characters (a random string)"
            )
        if per_minute is not None and per_minute <= 0:
            raise ConfigError(f"KIZUNA_EMAIL_PER_MINUTE must be a positive number, got {per_minute}")
        folder = templates_dir or TEMPLATES_DIR
        if not folder.is_dir():
            raise ConfigError(f"KIZUNA_EMAIL_TEMPLATES_DIR: no folder {str(folder)!r}")
        self.host, self.port, self.tls, self.timeout = host, port, tls, timeout
        self.from_address = from_address
        self.public_base_url = public_base_url.rstrip("/")
        self.interval = 60.0 / per_minute if per_minute else 0.0
        self._secret = unsubscribe_secret
        self.shop_product_url = shop_product_url
        self.reuse_seconds = reuse_seconds
        self._smtp: smtplib.SMTP | None = None
        self._smtp_used = 0.0
        self._smtp_lock = threading.Lock()
        self._batches = 0
        self._login = (username, password or "") if username else None
        self._ssl = ssl_context or ssl.create_default_context()
        self._clock, self._sleep = clock, sleep
        self._next_send: float | None = None
        self._lock = threading.Lock()
        self._env = SandboxedEnvironment(
            loader=jinja2.FileSystemLoader(folder),
            autoescape=jinja2.select_autoescape(["html"]),
            undefined=jinja2.StrictUndefined,
            keep_trailing_newline=True,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self._env.filters["yen"] = yen

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> EmailChannel:
        """The channel as ``KIZUNA_EMAIL_*`` configure it; ConfigError naming what is missing."""
        settings = settings or get_settings()
        missing = [
            f"KIZUNA_{name.upper()}"
            for name in ("email_smtp_host", "email_from", "public_base_url")
            if getattr(settings, name) is None
        ]
        if missing:
            raise ConfigError(f"the email channel is not configured: set {', '.join(missing)}")
        assert settings.email_smtp_host and settings.email_from and settings.public_base_url
        password = settings.email_smtp_password
        return cls(
            host=settings.email_smtp_host,
            port=settings.email_smtp_port,
            tls=settings.email_tls,
            username=settings.email_smtp_username,
            password=password.get_secret_value() if password else None,
            timeout=settings.email_timeout_seconds,
            from_address=settings.email_from,
            per_minute=settings.email_per_minute,
            templates_dir=settings.email_templates_dir,
            public_base_url=settings.public_base_url,
            unsubscribe_secret=link_secret(settings),
            shop_product_url=settings.shop_product_url,
        )

    def _render_template(self, name: str, variables: Mapping[str, Any]) -> str:
        try:
            return self._env.get_template(name).render(variables)
        except jinja2.TemplateNotFound as exc:
            raise PermanentError(f"no email template {name!r} in the templates folder") from exc
        except jinja2.TemplateError as exc:
            raise PermanentError(f"email template {name!r}: {type(exc).__name__}: {exc}") from exc

    def render(self, delivery: OutboxDelivery, recipient: Recipient, context: RenderContext) -> Rendered:
        """The message (RFC 5322 bytes, multipart/alternative text and HTML), dated ``context.now``."""
        if not recipient.email:
            raise PermanentError(f"customer {recipient.external_id} has no email address")
        template = delivery.template or DEFAULT_TEMPLATE
        token = unsubscribe_token(delivery.key, self._secret)
        url = f"{self.public_base_url}/v1/unsubscribe/{token}"
        signer = LinkSigner(self.public_base_url, delivery.key, self._secret)
        variables = template_variables(
            delivery, recipient, context, url, signer=signer, shop_product_url=self.shop_product_url
        )
        text = self._render_template(f"{template}.txt", variables)
        html = track_html(self._render_template(f"{template}.html", variables), signer)
        first, _, text = text.partition("\n")
        if not first.startswith("Subject:") or not first[8:].strip():
            raise PermanentError(f"email template {template}.txt must start with a line 'Subject: ...'")
        digest = hashlib.sha256(delivery.key.encode()).hexdigest()
        message = EmailMessage(policy=SMTP)
        message["From"] = self.from_address
        message["To"] = recipient.email
        message["Subject"] = first[8:].strip()
        message["Date"] = format_datetime(context.now)
        message["Message-ID"] = f"<{digest[:32]}@{self.envelope_from.rpartition('@')[2]}>"
        message[DELIVERY_HEADER] = delivery.key
        mailto = f"mailto:{self.envelope_from}?subject={quote('unsubscribe ' + token)}"
        message["List-Unsubscribe"] = f"<{url}>, <{mailto}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        message.set_content(text.lstrip("\n"))
        message.add_alternative(html, subtype="html")
        # A fixed boundary keeps the bytes the same on every render of this delivery.
        message.set_boundary(f"kizuna-{digest[32:56]}")
        return Rendered(
            key=delivery.key,
            channel=self.name,
            target=recipient.email,
            body=message.as_bytes(policy=_UNFOLDED),
            media_type="message/rfc822",
            headers={DELIVERY_HEADER: delivery.key, "Subject": str(message["Subject"])},
        )

    def _throttle(self) -> None:
        """Wait until this send's turn: sends at least ``60 / per_minute`` seconds apart."""
        if not self.interval:
            return
        with self._lock:
            now = self._clock()
            turn = now if self._next_send is None else max(now, self._next_send)
            self._next_send = turn + self.interval
        if turn > now:
            self._sleep(turn - now)

    def _connect(self) -> smtplib.SMTP:
        if self.tls == "tls":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                self.host, self.port, timeout=self.timeout, context=self._ssl
            )
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        try:
            if self.tls == "starttls":
                smtp.starttls(context=self._ssl)
            if self._login is not None:
                smtp.login(*self._login)
        except BaseException:
            smtp.close()
            raise
        return smtp

    def _connection(self) -> smtplib.SMTP:
        """The open connection if it was used in the last ``reuse_seconds`` and still answers NOOP with 250;
        a new one otherwise."""
        smtp, self._smtp = self._smtp, None
        if smtp is not None and self._clock() - self._smtp_used <= self.reuse_seconds:
            try:
                if smtp.noop()[0] == 250:
                    return smtp
            except (smtplib.SMTPException, OSError):
                pass
        if smtp is not None:
            _quit(smtp)
        return self._connect()

    def send(self, rendered: Rendered) -> None:
        """Send it by SMTP; see the module docstring for which failures are retried.

        Within :meth:`batch` the connection stays open for the next send (for ``reuse_seconds`` of idleness at
        most); after any failure it is closed, so one delivery's failure never touches another's.
        """
        self._throttle()
        where = f"email to {rendered.target} via {self.host}:{self.port}"
        with self._smtp_lock:
            smtp: smtplib.SMTP | None = None
            try:
                smtp = self._connection()
                smtp.sendmail(self.envelope_from, [rendered.target], rendered.body)
            except smtplib.SMTPRecipientsRefused as exc:
                _quit(smtp)
                code, reply = next(iter(exc.recipients.values()), (550, b""))
                message = f"{where}: recipient refused: {code} {_text(reply)}"
                raise (TransientError if 400 <= code < 500 else PermanentError)(message) from exc
            except smtplib.SMTPAuthenticationError as exc:
                _quit(smtp)
                # The operator's credentials, not the delivery, are at fault: retry once they are fixed.
                message = f"{where}: login refused: {exc.smtp_code} {_text(exc.smtp_error)}"
                raise TransientError(message) from exc
            except smtplib.SMTPResponseException as exc:
                _quit(smtp)
                message = f"{where}: {exc.smtp_code} {_text(exc.smtp_error)}"
                raise (PermanentError if exc.smtp_code >= 500 else TransientError)(message) from exc
            except (smtplib.SMTPException, OSError) as exc:
                _quit(smtp)
                raise TransientError(f"{where}: {type(exc).__name__}: {exc}") from exc
            except BaseException:
                _quit(smtp)
                raise
            if self._batches:
                self._smtp, self._smtp_used = smtp, self._clock()
            else:
                _quit(smtp)

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Within it, one connection serves every send (the dispatcher wraps each batch in it); it is closed
        at the end. Outside it, each send opens and closes its own connection."""
        self._batches += 1
        try:
            yield
        finally:
            self._batches -= 1
            if not self._batches:
                with self._smtp_lock:
                    smtp, self._smtp = self._smtp, None
                _quit(smtp)


def _quit(smtp: smtplib.SMTP | None) -> None:
    """Say QUIT and close, ignoring a connection that is already gone."""
    if smtp is None:
        return
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        smtp.close()


def _text(reply: bytes | str) -> str:
    return (reply.decode(errors="replace") if isinstance(reply, bytes) else reply)[:200]

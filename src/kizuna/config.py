"""Settings: the one place kizuna reads its environment.

Every setting has the prefix ``KIZUNA_`` (``KIZUNA_DATABASE_URL``, ``KIZUNA_DATA_DIR`` ...) and may also
be put in a ``.env`` file in the working directory.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from platformdirs import user_data_dir
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ConsentDefault = Literal["opt-in", "opt-out"]

#: What holds for each consent purpose until a customer decides. Everything waits for consent except
#: personalisation: recommending from a customer's own purchases on the operator's own site and channels
#: is a use the privacy policy announces (APPI art. 21) and the customer may object to at any time; sites
#: that treat it as consent-based profiling set it to opt-in. Kept in step with ``privacy.consent.Purpose``.
CONSENT_DEFAULTS: dict[str, ConsentDefault] = {
    "tracking": "opt-in",
    "personalisation": "opt-out",
    "email": "opt-in",
    "direct_mail": "opt-in",
    "ads": "opt-in",
    "third_party": "opt-in",
}


def _check_http_url(url: str, name: str) -> None:
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"{name} must be an http:// or https:// URL, got {url!r}")


def _default_data_dir() -> Path:
    return Path(user_data_dir("kizuna", appauthor=False))


class Settings(BaseSettings):
    """kizuna's settings, read from ``KIZUNA_*`` environment variables."""

    model_config = SettingsConfigDict(env_prefix="KIZUNA_", env_file=".env", extra="ignore")
    data_dir: Path = Field(
        default_factory=_default_data_dir,
        description="Where the embedded SQLite store and generated files live; created on first use.",
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the store. Unset: a SQLite file in data_dir. "
        "postgresql+psycopg://user@host/db selects PostgreSQL.",
    )
    default_timezone: str = Field(
        default="Asia/Tokyo",
        description="Timezone assumed for imported times that carry none, and for new customers.",
    )
    default_currency: str = Field(default="JPY", min_length=3, max_length=3)
    import_batch_size: int = Field(default=20_000, ge=100, description="Rows written per batch.")
    consent_defaults: dict[str, ConsentDefault] = Field(
        default_factory=lambda: dict(CONSENT_DEFAULTS),
        description="Per consent purpose, what holds for a customer who never decided: opt-in (not until "
        'they grant it) or opt-out (until they object). JSON, e.g. {"tracking": "opt-out"}; purposes not '
        "named keep their defaults.",
    )
    api_max_batch_bytes: int = Field(
        default=500_000,
        ge=1_024,
        description="Largest request body the tracking API accepts, in bytes (Segment's: 500 KB a batch).",
    )
    api_key_cache_seconds: float = Field(
        default=5.0,
        ge=0,
        le=300,
        description="How long the tracking API trusts a write key it has verified; a revoked write key stops "
        "working within this time (0: check every request). Secret keys are checked every time.",
    )
    api_cors_origins: list[str] = Field(
        default_factory=lambda: ["*"],
        description='Origins whose pages may call the tracking API, JSON: ["https://shop.example.jp"]; '
        '["*"] allows any (write keys are public anyway).',
    )
    snippet_consent: ConsentDefault | None = Field(
        default=None,
        description="Whether /kizuna.js waits for consent (opt-in) or tracks until told not to (opt-out). "
        "Unset: the tracking purpose's consent default. A page may override it with data-consent.",
    )
    snippet_cookie_days: int = Field(
        default=395, ge=1, le=3_650, description="Lifetime of the snippet's anonymous-id cookie, in days."
    )
    snippet_visit_minutes: int = Field(
        default=30, ge=1, le=1_440, description="Minutes without a page view after which a new visit starts."
    )
    holdout_fraction: float = Field(
        default=0.0,
        ge=0.0,
        le=0.5,
        description="Share of customers kept out of every scenario (a store-wide holdout, stable per "
        "customer) to measure the total effect of marketing; 0 turns it off.",
    )
    holdout_salt: str = Field(
        default="kizuna",
        min_length=1,
        description="Salt of the holdout's hash: change it to draw a new holdout group.",
    )
    engine_poll_interval: float = Field(
        default=0.2,
        gt=0,
        le=60,
        description="Seconds `kizuna run` waits between passes when there is nothing to do; new events are "
        "acted on within about this time.",
    )
    engine_batch_size: int = Field(
        default=2_000,
        ge=10,
        le=100_000,
        description="Scenario runs advanced (and events read) per transaction by the scenario engine.",
    )
    engine_segment_rebuild_minutes: float = Field(
        default=60,
        gt=0,
        le=10_080,
        description="How often `kizuna run` rebuilds the segments active scenarios use, so that time alone "
        "(a customer becoming lapsed) moves people in and out; events move them at once anyway.",
    )
    engine_intake_lag_seconds: float = Field(
        default=5.0,
        ge=0,
        le=3_600,
        description="How long the engine waits for a missing event id (a transaction that may still "
        "commit) before reading past it for good; events after the gap are acted on at once anyway.",
    )
    delivery_batch_size: int = Field(
        default=100,
        ge=1,
        le=10_000,
        description="Deliveries `kizuna deliver` claims from the outbox per channel and pass.",
    )
    delivery_poll_interval: float = Field(
        default=1.0,
        gt=0,
        le=300,
        description="Seconds `kizuna deliver` waits between passes when the outbox has nothing due.",
    )
    delivery_lease_seconds: float = Field(
        default=300,
        ge=1,
        le=86_400,
        description="How long a claimed delivery stays `sending`: a dispatcher that stopped mid-send leaves "
        "it to be sent again after this time. Keep it above a batch's sending time.",
    )
    delivery_max_attempts: int = Field(
        default=8,
        ge=1,
        le=100,
        description="Attempts at sending one delivery before it is marked failed with the last error.",
    )
    delivery_backoff_seconds: float = Field(
        default=60,
        gt=0,
        le=86_400,
        description="Wait after the first failed attempt that may succeed later; doubled after each further "
        "one, up to delivery_backoff_max_seconds.",
    )
    delivery_backoff_max_seconds: float = Field(
        default=6 * 3_600,
        gt=0,
        le=7 * 86_400,
        description="Longest wait between two attempts at one delivery.",
    )
    webhook_url: str | None = Field(
        default=None,
        description="Where the webhook channel POSTs deliveries (http:// or https://), unless "
        "webhook_urls names a URL for the delivery's template.",
    )
    webhook_urls: dict[str, str] = Field(
        default_factory=dict,
        description='Per-template webhook URLs, JSON: {"line-welcome": "https://hooks.example.jp/line"}; '
        "templates not named go to webhook_url.",
    )
    webhook_secret: SecretStr | None = Field(
        default=None,
        description="Shared secret (16 characters or more) under which webhook bodies are signed "
        "(HMAC-SHA256, header X-Kizuna-Signature).",
    )
    webhook_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        le=300,
        description="Seconds the webhook channel waits for a receiver (connecting and answering); a "
        "timeout is retried later.",
    )
    email_smtp_host: str | None = Field(
        default=None, description="SMTP server the email channel sends through (a relay or provider)."
    )
    email_smtp_port: int = Field(
        default=587, ge=1, le=65_535, description="SMTP port: 587 for starttls, 465 for tls, 25 for none."
    )
    email_smtp_username: str | None = Field(
        default=None, description="SMTP login name; no authentication when unset."
    )
    email_smtp_password: SecretStr | None = Field(default=None, description="SMTP password.")
    email_tls: Literal["none", "starttls", "tls"] = Field(
        default="starttls",
        description="SMTP transport security: none (plain), starttls (upgrade after connecting) or tls "
        "(TLS from the start, SMTPS).",
    )
    email_timeout_seconds: float = Field(
        default=30.0, gt=0, le=300, description="Seconds the email channel waits for the SMTP server."
    )
    email_from: str | None = Field(
        default=None, description='Sender of every email, e.g. "Shop <news@shop.example.jp>".'
    )
    email_per_minute: int | None = Field(
        default=None,
        gt=0,
        description="Most emails the channel sends per minute (it waits between sends); unset: no limit.",
    )
    email_templates_dir: Path | None = Field(
        default=None,
        description="Folder of email templates (<name>.txt and <name>.html, Jinja2); unset: the "
        "templates shipped with kizuna.",
    )
    public_base_url: str | None = Field(
        default=None,
        description="Public base URL of kizuna's API (https://...), for the links kizuna puts in what it "
        "sends: unsubscribe, open pixel, click redirects, QR codes on paper.",
    )
    link_secret: SecretStr | None = Field(
        default=None,
        description="Secret (16 characters or more) under which the tokens in those links are signed.",
    )
    web_slots_file: Path | None = Field(
        default=None,
        description="YAML file of the site's web slots (recommendations, content, pop-ups) that "
        "/v1/personalize serves; unset: the example shipped with kizuna, which the demo shop uses.",
    )
    web_delivery_days: int = Field(
        default=7,
        ge=1,
        le=365,
        description="Days a scenario's send to a web slot waits for the customer's next page view; older "
        "ones are no longer shown.",
    )
    web_demo_shop: bool | None = Field(
        default=None,
        description="Serve the demo shop at /demo/shop from `kizuna serve`. Unset: on for a SQLite store "
        "(the embedded default), off for PostgreSQL.",
    )
    web_audiences_file: Path | None = Field(
        default=None,
        description="YAML file of cookie-based ad audiences (visitors who viewed a product or category and "
        "did not buy) served at /v1/audiences/NAME/visitors; unset: the example shipped with kizuna.",
    )
    # -- measurement: attribution window, costs per message, lifetime value --------------------------------
    cost_per_email: float = Field(
        default=0.0, ge=0, description="Cost of one sent email, in default_currency (ROI in reports)."
    )
    cost_per_dm_piece: float = Field(
        default=0.0,
        ge=0,
        description="Print cost of one direct-mail piece, in default_currency (ROI in reports).",
    )
    cost_dm_postage: float = Field(
        default=0.0,
        ge=0,
        description="Postage of one direct-mail piece, in default_currency (ROI in reports).",
    )
    ltv_horizon_days: int = Field(
        default=365,
        ge=1,
        le=3_650,
        description="Days ahead over which `kizuna value compute` predicts purchases and lifetime value.",
    )
    ltv_discount_rate: float = Field(
        default=0.0,
        ge=0,
        lt=1,
        description="Yearly discount rate applied to predicted future spend (0.1 = 10 % a year).",
    )
    dm_font_path: Path | None = Field(
        default=None,
        description="TrueType font (.ttf, or .otf with TrueType outlines) printed on paper direct mail; "
        "unset: IPAexGothic, shipped with kizuna.",
    )
    dm_templates_dir: Path | None = Field(
        default=None,
        description="Folder of the designer's own direct mail layouts (<name>.yaml); a file here replaces "
        "the shipped layout of the same name.",
    )
    dm_images_dir: Path | None = Field(
        default=None,
        description="Folder of product images for direct mail: an item whose image_url is a file path "
        "inside it is printed with that image; every other item gets an image placeholder box.",
    )
    dm_landing_url: str | None = Field(
        default=None,
        description="Where a scanned direct mail QR code leads (http:// or https://); the piece's coupon is "
        "appended as ?coupon=CODE. Unset: public_base_url + '/'.",
    )
    dm_min_days_between: int = Field(
        default=7,
        ge=0,
        le=3_650,
        description="Customers who were sent direct mail within this many days are left out of a print "
        "batch (suppressed: frequency cap); 0 turns it off.",
    )
    dm_workers: int = Field(
        default=2,
        ge=1,
        le=64,
        description="Processes that render a direct mail batch in parallel (ReportLab is pure Python).",
    )
    dm_chunk_pieces: int = Field(
        default=500,
        ge=1,
        le=100_000,
        description="Pieces per PDF file of a print batch (pieces-001.pdf, pieces-002.pdf ...).",
    )
    dm_lease_seconds: float = Field(
        default=3_600,
        ge=60,
        le=7 * 86_400,
        description="How long `kizuna dm render` holds the deliveries it claimed: keep it above a batch's "
        "rendering time.",
    )
    dm_spool_dir: Path | None = Field(
        default=None,
        description="Folder where `kizuna deliver` writes single direct mail pieces (<key>.pdf); unset: "
        "direct mail is printed only in batches with `kizuna dm render`.",
    )
    shop_product_url: str | None = Field(
        default=None,
        description="Product page URL pattern for links to recommended items in messages, with {sku} "
        "and/or {product_id}, e.g. https://shop.example/p/{sku}; an item's own url in the payload wins. "
        "Unset: items without a url get no link.",
    )
    attribution_window_days: float = Field(
        default=7.0,
        gt=0,
        le=366,
        description="Days after a sent delivery (or after entering a scenario) within which a customer's "
        "order counts: attributed to the delivery (last touch) as an order response, and as the run's "
        "conversion in reports.",
    )
    attribution_windows: dict[str, float] = Field(
        default_factory=dict,
        description='Per-channel attribution windows in days, JSON: {"direct_mail": 30, "email": 7}; '
        "channels not named use attribution_window_days.",
    )
    attribution_batch_size: int = Field(
        default=2_000, ge=10, description="Orders read per attribution transaction."
    )
    dashboard_secret: SecretStr | None = Field(
        default=None,
        description="Secret (32 characters or more) under which dashboard session cookies are signed. Unset: "
        "one is generated on first use and kept in data_dir/dashboard-secret (mode 600); set it when several "
        "servers share the dashboard.",
    )
    dashboard_session_hours: float = Field(
        default=12, gt=0, le=24 * 30, description="How long a dashboard sign-in lasts, in hours."
    )
    dashboard_login_attempts: int = Field(
        default=5,
        ge=1,
        le=1_000,
        description="Failed dashboard sign-ins allowed per account and per address in 15 minutes; later "
        "attempts are refused until the window passes.",
    )
    dashboard_cache_seconds: float = Field(
        default=60,
        ge=0,
        le=86_400,
        description="How long the dashboard reuses store-wide figures (overview counts and charts, consent "
        "counts, scenario step counts) before counting again; 0 counts on every request.",
    )
    dashboard_reports_dir: Path | None = Field(
        default=None,
        description="Folder of evaluation reports (markdown with their charts, `kizuna evaluate --report`) "
        "that the dashboard lists. Unset: data_dir/reports.",
    )

    @field_validator("dm_landing_url")
    @classmethod
    def _dm_landing_url(cls, value: str | None) -> str | None:
        if value is not None:
            _check_http_url(value, "dm_landing_url")
        return value

    @field_validator("shop_product_url")
    @classmethod
    def _shop_product_url(cls, value: str | None) -> str | None:
        if value is not None:
            _check_http_url(value, "shop_product_url")
            if "{sku}" not in value and "{product_id}" not in value:
                raise ValueError(f"shop_product_url must contain {{sku}} or {{product_id}}, got {value!r}")
        return value

    @field_validator("attribution_windows")
    @classmethod
    def _attribution_windows(cls, value: dict[str, float]) -> dict[str, float]:
        for channel, days in value.items():
            if not 0 < days <= 366:
                raise ValueError(
                    f"attribution_windows[{channel!r}] must be days between 0 and 366, got {days}"
                )
        return value

    @field_validator("webhook_url")
    @classmethod
    def _webhook_url(cls, value: str | None) -> str | None:
        if value is not None:
            _check_http_url(value, "webhook_url")
        return value

    @field_validator("public_base_url")
    @classmethod
    def _public_base_url(cls, value: str | None) -> str | None:
        if value is not None:
            _check_http_url(value, "public_base_url")
            return value.rstrip("/")
        return value

    @field_validator("webhook_urls")
    @classmethod
    def _webhook_urls(cls, value: dict[str, str]) -> dict[str, str]:
        for template, url in value.items():
            _check_http_url(url, f"webhook_urls[{template!r}]")
        return value

    @field_validator("consent_defaults", mode="before")
    @classmethod
    def _complete_consent_defaults(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        unknown = sorted(set(value) - set(CONSENT_DEFAULTS))
        if unknown:
            raise ValueError(
                f"unknown consent purpose(s) {', '.join(unknown)}: use {', '.join(CONSENT_DEFAULTS)}"
            )
        return {**CONSENT_DEFAULTS, **value}

    @field_validator("data_dir")
    @classmethod
    def _expand(cls, value: Path) -> Path:
        return value.expanduser()

    def demo_shop_enabled(self) -> bool:
        """Whether ``kizuna serve`` serves the demo shop: ``web_demo_shop``, or by default only on the
        embedded SQLite store."""
        if self.web_demo_shop is not None:
            return self.web_demo_shop
        return self.resolved_database_url().startswith("sqlite")

    @field_validator("dashboard_secret")
    @classmethod
    def _dashboard_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 32:
            raise ValueError("dashboard_secret must be 32 characters or more (e.g. `openssl rand -hex 32`)")
        return value

    def resolved_database_url(self) -> str:
        """The database URL to use: the configured one, or the SQLite file in ``data_dir``."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'kizuna.db'}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (read once)."""
    return Settings()

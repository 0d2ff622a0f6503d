"""Settings read once from `MLA_*` environment variables."""

import os

import msgspec

from mla.alerts.targets import Network, parse_networks

_PREFIX = "MLA_"


class Settings(msgspec.Struct, kw_only=True, frozen=True):
    database_url: str | None = None
    redis_url: str | None = None
    data_dir: str = ".mla-data"
    secret_key: str = ""
    token_ttl_minutes: int = 480
    max_body_bytes: int = 1_048_576
    queue_name: str = "mla:queue"
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_sender: str = "mla-tracker@localhost"
    alert_scan_seconds: int = 60
    max_content_days: int = 365
    # The bearer token Prometheus sends to GET /metrics; empty: every scrape is refused.
    metrics_token: str = ""
    # CIDR networks (comma-separated) webhooks may reach although private or loopback: on-premises
    # receivers. Empty: public addresses only (mla.alerts.targets).
    webhook_allowed_networks: str = ""

    def __post_init__(self) -> None:
        self.webhook_networks  # noqa: B018 - a malformed network is refused at start-up, not at the first alert

    @property
    def webhook_networks(self) -> tuple[Network, ...]:
        return parse_networks(self.webhook_allowed_networks)

    def __repr__(self) -> str:  # never print the secret key
        return f"Settings(database_url={_redact(self.database_url)}, redis_url={_redact(self.redis_url)})"


def _redact(url: str | None) -> str | None:
    if url is None or "@" not in url:
        return url
    scheme, _, rest = url.partition("://")
    return f"{scheme}://***@{rest.split('@', 1)[1]}"


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    """Build settings from `MLA_`-prefixed variables; unknown or mistyped values are refused."""
    source = os.environ if environ is None else environ
    raw = {key[len(_PREFIX) :].lower(): value for key, value in source.items() if key.startswith(_PREFIX)}
    fields = set(Settings.__struct_fields__)
    return msgspec.convert({k: v for k, v in raw.items() if k in fields}, Settings, strict=False)

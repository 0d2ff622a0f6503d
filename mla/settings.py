"""Settings read once from `MLA_*` environment variables."""

import os

import msgspec

from mla.alerts.targets import Network, parse_networks

_PREFIX = "MLA_"


class Settings(msgspec.Struct, kw_only=True, frozen=True):
    # The runtime role the API and workers connect as; migrations connect as the owner (README).
    database_url: str | None = None
    migration_database_url: str | None = None
    redis_url: str | None = None
    # Connections each API process keeps open: its expected concurrent requests (a burst may open 10
    # more, closed again when returned). Requests beyond pool + burst wait for a connection.
    database_pool_size: int = 20
    data_dir: str = ".mla-data"
    secret_key: str = ""
    token_ttl_minutes: int = 480
    api_token_ttl_days: int = 90
    desk_session_minutes: int = 480  # the desk's sign-in lasts a working day, then asks again
    max_body_bytes: int = 1_048_576
    queue_name: str = "mla:queue"
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_sender: str = "mla-tracker@localhost"
    alert_scan_seconds: int = 60
    # `mla up` runs the worker in the API's process: there, a dead worker makes it not ready.
    ready_requires_worker: bool = False
    max_content_days: int = 365
    debug: bool = False  # the CLI shows tracebacks instead of one line
    # The audit chain's HMAC keys, "id:secret,id:secret"; new events use `audit_current_key`
    # (default: the only key). Never stored in the database.
    audit_keys: str = ""
    audit_current_key: str = ""
    # Ed25519 key (base64 of the 32-byte private key) that signs checkpoints of the chain heads,
    # extra trusted public keys (base64, comma-separated, e.g. a rotated-out signer's), the log file
    # (default <data_dir>/audit-checkpoints.jsonl) and how often the worker writes it.
    checkpoint_signing_key: str = ""
    checkpoint_public_keys: str = ""
    checkpoint_log: str = ""
    checkpoint_minutes: int = 10
    # Every key this installation keeps in Redis starts with it (tests give each run its own).
    redis_key_prefix: str = "mla"
    # Failed log-ins: so many are free within the window, then each further one locks out for a
    # back-off that doubles from `login_backoff_seconds` up to `login_backoff_max_seconds`.
    login_failures_per_account: int = 5
    login_failures_per_address: int = 50
    login_window_seconds: int = 3600
    login_backoff_seconds: int = 30
    login_backoff_max_seconds: int = 900
    # A refused log-in (429) is answered after this pause (at most the time left to wait): a client
    # that hammers the endpoint in a loop gets a few answers a second, not thousands, so it cannot
    # take the processors from everyone else's requests. Holding an answer costs no CPU.
    login_refusal_pause_seconds: float = 1.0
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

    def __repr__(self) -> str:  # never print the secret key, the audit keys or passwords
        return (
            f"Settings(database_url={_redact(self.database_url)}, "
            f"migration_database_url={_redact(self.migration_database_url)}, redis_url={_redact(self.redis_url)})"
        )


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

"""Apply Alembic migrations programmatically (used by `mla migrate`, `mla up` and the tests)."""

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config

from mla.database_roles import grant_runtime_role, role_of
from mla.settings import Settings

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def alembic_config(database_url: str) -> Config:
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Blocking: it runs its own event loop, so call it from a thread inside async code."""
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(database_url), revision)


def migrate(owner_url: str, runtime_url: str | None) -> None:
    """Upgrade as the owner, then create or update the runtime role and its grants (blocking).

    `runtime_url=None` is the single-role mode: the application then connects as the owner.
    """
    upgrade(owner_url)
    if runtime_url is not None:
        asyncio.run(grant_runtime_role(owner_url, runtime_url))


def migration_urls(settings: Settings) -> tuple[str, str | None]:
    """The owner's URL and the runtime role's (None when both are one role)."""
    if not settings.database_url:
        raise ValueError("set MLA_DATABASE_URL (the runtime role) and MLA_MIGRATION_DATABASE_URL (the owner)")
    if not settings.migration_database_url:
        return settings.database_url, None
    if role_of(settings.migration_database_url)[0] == role_of(settings.database_url)[0]:
        return settings.migration_database_url, None
    return settings.migration_database_url, settings.database_url

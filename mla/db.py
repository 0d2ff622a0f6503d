"""Engine, declarative base and the one-transaction-per-request session."""

import uuid
from collections.abc import AsyncGenerator, Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

import asyncpg
from litestar import Request
from litestar.connection import ASGIConnection
from litestar.types import ASGIApp, Receive, Scope, Send
from sqlalchemy import DateTime, MetaData
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.pool import NullPool

if TYPE_CHECKING:
    from mla.audit.keys import AuditKeyring

AUDIT_KEYRING = "audit_keyring"

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: DateTime(timezone=True)}


def new_id() -> uuid.UUID:
    return uuid.uuid4()


class UuidPrimaryKey:
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)


def asyncpg_url(url: str) -> str:
    """Accept `postgresql://` or `postgres://` URLs and point SQLAlchemy at asyncpg."""
    for prefix in ("postgresql+asyncpg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    raise ValueError("MLA_DATABASE_URL must be a postgresql:// URL")


# asyncpg's errors for "the server is gone, or not accepting connections yet"; the rest (a wrong
# password, an unknown database) are configuration errors, not outages.
CONNECTION_LOST_ERRORS = (
    OSError,  # refused, reset, unknown host, timed out
    asyncpg.ConnectionDoesNotExistError,
    asyncpg.CannotConnectNowError,
    asyncpg.ConnectionFailureError,
    asyncpg.AdminShutdownError,
    asyncpg.TooManyConnectionsError,
)


class DatabaseUnreachable(Exception):
    """No connection to PostgreSQL could be opened: the API answers 503 (mla.errors)."""


def connector(url: str) -> Callable[[], Awaitable[asyncpg.Connection]]:
    """Open asyncpg connections to `url`, raising `DatabaseUnreachable` when the server cannot be reached."""
    dsn = make_url(asyncpg_url(url)).set(drivername="postgresql").render_as_string(hide_password=False)

    async def connect() -> asyncpg.Connection:
        try:
            return await asyncpg.connect(dsn)
        except CONNECTION_LOST_ERRORS as error:
            raise DatabaseUnreachable(f"cannot connect to PostgreSQL: {type(error).__name__}") from error

    return connect


# Connections beyond `pool_size` for a burst; each is closed when returned, so steady load must fit the pool.
POOL_OVERFLOW = 10


def create_engine(url: str, *, pool_size: int = 10, null_pool: bool = False) -> AsyncEngine:
    """An asyncpg engine whose pool keeps `pool_size` connections open (size it to the expected concurrency).

    No pre-ping: it would cost a round trip per checkout. A connection lost since its last use fails
    its first statement instead, which is a 503 (mla.errors), and SQLAlchemy then replaces every
    pooled connection opened before the failure, so the next request gets a fresh one.
    """
    # Statement errors never carry their parameters: they are personal data (mla.observability.logs).
    engine_url, connect = asyncpg_url(url), connector(url)
    if null_pool:
        return create_async_engine(engine_url, poolclass=NullPool, hide_parameters=True, async_creator=connect)
    return create_async_engine(
        engine_url, pool_size=pool_size, max_overflow=POOL_OVERFLOW, hide_parameters=True, async_creator=connect
    )


def create_sessionmaker(
    engine: AsyncEngine, audit_keyring: "AuditKeyring | None" = None
) -> async_sessionmaker[AsyncSession]:
    """Sessions that carry the audit keys (in `session.info`), which every audit write and check needs."""
    return async_sessionmaker(engine, expire_on_commit=False, info={AUDIT_KEYRING: audit_keyring})


_REQUEST_SESSION = "mla.session"


def request_session(connection: ASGIConnection[Any, Any, Any, Any]) -> AsyncSession:
    """The one session of this HTTP request, made on first use (authentication, then the handler).

    It connects lazily, so a request that never reads the database never takes a connection.
    `close_request_sessions` closes it once the response is sent.
    """
    state = connection.scope.setdefault("state", {})
    session: AsyncSession | None = state.get(_REQUEST_SESSION)
    if session is None:
        sessionmaker: async_sessionmaker[AsyncSession] = connection.app.state.sessionmaker
        session = state[_REQUEST_SESSION] = sessionmaker()
    return session


def close_request_sessions(app: ASGIApp) -> ASGIApp:
    """ASGI middleware: close the request's session, if one was made; an unfinished transaction rolls back."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await app(scope, receive, send)
        finally:
            session: AsyncSession | None = scope.get("state", {}).get(_REQUEST_SESSION)
            if session is not None:
                await session.close()

    return middleware


async def provide_transaction(request: Request[Any, Any, Any]) -> AsyncGenerator[AsyncSession, None]:
    """The request's session, whose one transaction (begun by authentication's read) the handler continues.

    The commit happens in this dependency's cleanup, before the response is sent, so a failed
    commit is an error answer and never a 201 for data that was not saved (STACK-NOTES).
    An exception in the handler is thrown in here and rolls the transaction back.
    """
    session = request_session(request)
    try:
        yield session
    except BaseException:
        await session.rollback()
        raise
    await session.commit()

"""The two database roles: the owner runs migrations, the runtime role serves (README, SECURITY.md).

The runtime role (the user of `MLA_DATABASE_URL`) reads and writes rows and nothing more: on
`audit_events` only INSERT and SELECT, and it owns no table, so it can neither disable the
append-only trigger nor truncate, alter or drop anything. `mla migrate`, connected as the owner
(`MLA_MIGRATION_DATABASE_URL`), creates the role if missing, sets its password from the URL and
grants it its privileges again after every migration, so tables added later are covered.
"""

import base64
import hashlib
import hmac
import os

import asyncpg
from sqlalchemy.engine import make_url

APPEND_ONLY_TABLES = ("audit_events",)
SCRAM_ITERATIONS = 4096

# What the runtime role must not be or hold; each refusal names the fix.
PRIVILEGE_CHECK = """
SELECT r.rolsuper AS superuser,
       r.rolbypassrls OR r.rolcreaterole OR r.rolcreatedb OR r.rolreplication AS powerful,
       pg_has_role(r.oid, c.relowner, 'MEMBER') AS owner,
       has_table_privilege(r.oid, c.oid, 'UPDATE, DELETE, TRUNCATE, TRIGGER, REFERENCES') AS can_rewrite
FROM pg_roles r, pg_class c
WHERE r.rolname = $1 AND c.oid = 'audit_events'::regclass
"""


def role_of(url: str) -> tuple[str, str | None]:
    """The user name and password a database URL connects with."""
    parsed = make_url(url)
    if not parsed.username:
        raise ValueError("the database URL names no user")
    return parsed.username, parsed.password


def with_role(url: str, user: str, password: str | None = None) -> str:
    """The same database reached as another user."""
    return make_url(url).set(username=user, password=password).render_as_string(hide_password=False)


def plain_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def scram_verifier(password: str) -> str:
    """The SCRAM-SHA-256 verifier PostgreSQL stores, computed here so the password never reaches its logs."""
    if not password.isascii():
        raise ValueError("the runtime role's password must be ASCII (PostgreSQL would SASLprep it)")
    salt = os.urandom(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, SCRAM_ITERATIONS)
    stored_key = hashlib.sha256(hmac.new(salted, b"Client Key", "sha256").digest()).digest()
    server_key = hmac.new(salted, b"Server Key", "sha256").digest()
    encoded = [base64.b64encode(part).decode() for part in (salt, stored_key, server_key)]
    return f"SCRAM-SHA-256${SCRAM_ITERATIONS}:{encoded[0]}${encoded[1]}:{encoded[2]}"


async def grant_runtime_role(owner_url: str, runtime_url: str) -> None:
    """Create or update the runtime role and give it exactly its privileges (idempotent).

    Refuses (ValueError) a runtime role that is a superuser, may create roles or databases,
    bypasses row security, owns `audit_events` or is a member of its owner.
    """
    user, password = role_of(runtime_url)
    connection = await asyncpg.connect(plain_dsn(owner_url))
    try:
        async with connection.transaction():
            # Two `mla migrate` at once would both try to create the role.
            await connection.execute("SELECT pg_advisory_xact_lock(hashtextextended('mla:runtime-role', 0))")
            await _refuse_powerful(connection, user)  # before touching it: never alter an administrator
            for statement in await _role_statements(connection, user, password):
                await connection.execute(statement)
            await _refuse_powerful(connection, user)  # owning audit_events survives any REVOKE
    finally:
        await connection.close()


async def _role_statements(connection: asyncpg.Connection, user: str, password: str | None) -> list[str]:
    exists = await connection.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", user)
    verb = "ALTER" if exists else "CREATE"
    secret = "NULL" if password is None else await _literal(connection, scram_verifier(password))
    role = await connection.fetchval("SELECT quote_ident($1)", user)
    schema = await connection.fetchval("SELECT quote_ident(current_schema())")
    database = await connection.fetchval("SELECT quote_ident(current_database())")
    append_only = ", ".join([await connection.fetchval("SELECT quote_ident($1)", t) for t in APPEND_ONLY_TABLES])
    return [
        f"{verb} ROLE {role} WITH LOGIN PASSWORD {secret}",
        f"GRANT CONNECT ON DATABASE {database} TO {role}",
        f"GRANT USAGE ON SCHEMA {schema} TO {role}",
        # Everything revoked, then granted again: the same end state however often it runs.
        f"REVOKE ALL ON ALL TABLES IN SCHEMA {schema} FROM {role}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {role}",
        f"REVOKE UPDATE, DELETE ON {append_only} FROM {role}",
        f"REVOKE ALL ON alembic_version FROM {role}",
        f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA {schema} FROM {role}",
        f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA {schema} TO {role}",  # nextval, not setval
    ]


async def _literal(connection: asyncpg.Connection, value: str) -> str:
    return await connection.fetchval("SELECT quote_literal($1)", value)


async def _refuse_powerful(connection: asyncpg.Connection, user: str) -> None:
    row = await connection.fetchrow(PRIVILEGE_CHECK, user)
    if row is None:  # not created yet
        return
    reasons = {
        "superuser": "is a superuser",
        "powerful": "may create roles or databases, replicate or bypass row security",
        "owner": "owns audit_events or is a member of its owner",
        "can_rewrite": "may update, delete or truncate audit_events",
    }
    found = [text for key, text in reasons.items() if row[key]]
    if found:
        raise ValueError(f"the runtime role {user!r} {' and '.join(found)}: use a role of its own for MLA_DATABASE_URL")

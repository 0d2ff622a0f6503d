"""The `mla` command: run the product (`up`), its production pieces, and operator tasks."""

import argparse
import asyncio
import contextlib
import os
import secrets
import sys
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import msgspec
import uvicorn
from sqlalchemy.engine import make_url
from sqlalchemy.exc import InterfaceError, OperationalError, ProgrammingError
from sqlalchemy.ext.asyncio import AsyncSession

from mla import demo
from mla.app import create_app
from mla.audit import service as audit
from mla.audit.checkpoint_log import CheckpointLogError
from mla.audit.checkpoints import CheckpointReport, checkpoint_log, checkpointing, write_checkpoint
from mla.audit.keys import (
    AuditKeyring,
    checkpoint_signer,
    new_audit_key,
    new_signing_key,
    public_key_text,
    signer_of,
)
from mla.clock import Clock, FixedClock, SystemClock
from mla.database_roles import with_role
from mla.db import DatabaseUnreachable, create_engine, create_sessionmaker
from mla.embedded import EmbeddedServices, start_embedded_services
from mla.enums import OrganisationKind, Role
from mla.errors import DomainError
from mla.mail_sink import SINK_HOST, running_mail_sink_port, start_mail_sink
from mla.migrate import migrate, migration_urls
from mla.observability.logs import configure_logging
from mla.organisations import repository as organisation_records
from mla.organisations import service as organisations
from mla.organisations.schemas import OrganisationCreate
from mla.reference_data import seed_reference_data
from mla.settings import Settings, load_settings
from mla.users import commands as user_commands
from mla.users import service as users
from mla.users import tokens
from mla.users.schemas import UserCreate
from workers.settings import build_worker
from workers.supervisor import run_supervised

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
EMBEDDED_RUNTIME_ROLE = "mla_app"


class CommandError(Exception):
    """A refusal worth one line on stderr and exit status 2."""


def with_services(settings: Settings, *, redis: bool) -> tuple[Settings, EmbeddedServices]:
    """Fill in missing URLs with embedded servers under the data folder (Redis only if asked).

    The embedded PostgreSQL is migrated as its superuser and served as the runtime role EMBEDDED_RUNTIME_ROLE;
    its audit keys are the data folder's, as `mla up` made them.
    """
    if not settings.database_url:
        settings = local_secrets(settings)
    embedded = start_embedded_services(
        Path(settings.data_dir), postgres=not settings.database_url, redis=redis and not settings.redis_url
    )
    urls = {"redis_url": settings.redis_url or embedded.redis_url}
    if not settings.database_url:
        urls |= {
            "database_url": with_role(embedded.database_url, EMBEDDED_RUNTIME_ROLE),
            "migration_database_url": embedded.database_url,
        }
    return msgspec.structs.replace(settings, **urls), embedded


async def in_transaction(settings: Settings, work: Callable[[AsyncSession], Awaitable[Any]]) -> Any:
    """Run `work` in one transaction; a database that is unreachable or not migrated is a CommandError."""
    keyring = AuditKeyring.from_settings(settings)
    url = settings.database_url or ""
    engine = create_engine(url, null_pool=True)
    try:
        async with create_sessionmaker(engine, keyring)() as session, session.begin():
            return await work(session)
    except ProgrammingError as exc:
        if isinstance(exc.orig.__cause__, asyncpg.exceptions.UndefinedTableError):
            raise CommandError(
                f"the database {describe_database(url)} has no tables: run `mla migrate` first, or set "
                "MLA_DATA_DIR to the data folder of `mla up`"
            ) from exc
        raise
    except (DatabaseUnreachable, InterfaceError, OperationalError) as exc:
        raise CommandError(f"cannot reach the database {describe_database(url)}: {exc}") from exc
    finally:
        await engine.dispose()


def describe_database(url: str) -> str:
    """Which database, for a person: name and host (or the embedded socket folder), never a password."""
    parsed = make_url(url)
    where = parsed.query.get("host") or parsed.host or "localhost"
    return f"{parsed.database!r} at {where}"


async def seed(settings: Settings, clock: Clock, *, with_demo: bool) -> dict[str, demo.DemoLogin] | None:
    """The reference data always (missing rows only); the demo world once, if asked."""
    data_dir = Path(settings.data_dir)

    async def work(session: AsyncSession) -> dict[str, demo.DemoLogin] | None:
        for name, inserted in (await seed_reference_data(session, clock)).items():
            print(f"{name}: {inserted} new", file=sys.stderr)
        for email in await demo.retire_fixed_password(session, clock, set(demo.load_credentials(data_dir) or {})):
            print(f"{email}: the old fixed demo password no longer works", file=sys.stderr)
        return await demo.seed_demo(session, clock) if with_demo else None

    logins = await in_transaction(settings, work)
    if logins:
        demo.save_credentials(data_dir, logins)
    return logins


def demo_login_lines(logins: dict[str, demo.DemoLogin]) -> list[str]:
    """The only place secrets are shown: stdout (the terminal), never a log."""
    return [f"  {email:24} {login.password:18} {login.token}" for email, login in logins.items()]


def cmd_migrate(settings: Settings, _: argparse.Namespace) -> None:
    settings, embedded = with_services(settings, redis=False)
    try:
        migrate_as_owner(settings)
        print("database at the latest schema")
    finally:
        embedded.stop()


def migrate_as_owner(settings: Settings) -> None:
    """Migrate as the owner and grant the runtime role its privileges; warn when both are one role."""
    owner_url, runtime_url = migration_urls(settings)
    if runtime_url is None:
        print(
            "mla: warning: the application connects as the owner of the tables, which can rewrite the audit "
            "trail; set MLA_MIGRATION_DATABASE_URL to the owner and MLA_DATABASE_URL to a runtime role",
            file=sys.stderr,
        )
    migrate(owner_url, runtime_url)


def cmd_seed(settings: Settings, args: argparse.Namespace) -> None:
    settings, embedded = with_services(settings, redis=False)
    try:
        logins = asyncio.run(seed(settings, SystemClock(), with_demo=args.demo))
        if logins:
            print("demo users (e-mail, password, API token):", *demo_login_lines(logins), sep="\n")
    finally:
        embedded.stop()


def cmd_users_create(settings: Settings, args: argparse.Namespace) -> None:
    settings, embedded = with_services(settings, redis=False)
    try:
        token = asyncio.run(in_transaction(settings, lambda session: create_user_with_token(session, settings, args)))
    finally:
        embedded.stop()
    print(token)  # last line of stdout, for scripts


def cmd_users_life_cycle(settings: Settings, args: argparse.Namespace) -> None:
    """`mla users disable|enable|set-roles|reset-password|tokens|...`: see mla/users/commands.py."""
    settings, embedded = with_services(settings, redis=False)
    try:
        lines = asyncio.run(in_transaction(settings, lambda session: args.work(session, settings, args)))
    finally:
        embedded.stop()
    print("\n".join(lines))  # a secret, if any, is the last line


async def create_user_with_token(session: AsyncSession, settings: Settings, args: argparse.Namespace) -> str:
    clock = SystemClock()
    organisation = await organisation_records.organisation_named(session, args.org)
    if organisation is None:
        if not (args.org_kind and args.org_country):
            raise CommandError(f"no organisation {args.org!r}: give --org-kind and --org-country to create it")
        # Converted, not constructed, so that the same constraints as in the API apply.
        organisation_data = msgspec.convert(
            {"name": args.org, "kind": args.org_kind, "country": args.org_country, "timezone": args.org_timezone},
            OrganisationCreate,
        )
        organisation = await organisations.create_organisation(session, clock, None, organisation_data)
        print(f"created organisation {organisation.name} ({organisation.id})")
    data = msgspec.convert(
        {
            "email": args.email,
            "name": args.name,
            "organisation_id": organisation.id,
            "roles": args.role,
            "password": args.password,
        },
        UserCreate,
    )
    user = await users.create_user(session, clock, None, data)
    print(f"created user {user.email} ({user.id}) with roles {', '.join(user.roles)}")
    lifetime = timedelta(days=settings.api_token_ttl_days)
    return (await tokens.issue_api_token(session, clock, None, user, "cli", lifetime)).secret


def cmd_audit_verify(settings: Settings, args: argparse.Namespace) -> None:
    settings, embedded = with_services(settings, redis=False)
    chain = None if args.request is None else audit.request_chain(args.request)
    try:
        log = checkpoint_log(settings)
        if not log.exists():
            print(f"mla: warning: no checkpoint log at {log.path}: deleted events cannot be detected", file=sys.stderr)
        heads = log.read().heads
        verdicts = asyncio.run(
            in_transaction(settings, lambda session: audit.verify_chains(session, chain, show_progress, heads))
        )
    except CheckpointLogError as exc:
        print(f"BROKEN checkpoint log: {exc}")
        raise SystemExit(1) from exc
    finally:
        embedded.stop()
        print(file=sys.stderr)
    if chain is not None and not verdicts:
        print(f"mla: no audit events for request {args.request}", file=sys.stderr)
        raise SystemExit(1)
    broken = [v for v in verdicts if not v.valid]
    events = sum(v.events for v in verdicts)
    for verdict in broken:
        print(f"BROKEN {verdict.chain}: first broken link at seq {verdict.first_broken_seq}: {verdict.problem}")
    print(f"{len(verdicts)} chains, {events} events, {len(broken)} broken")
    if broken:
        raise SystemExit(1)


def cmd_audit_checkpoint(settings: Settings, _: argparse.Namespace) -> None:
    """Sign the heads of the chains that changed now, as the worker does on its schedule."""
    settings, embedded = with_services(settings, redis=False)
    try:
        signing = checkpointing(settings)
        if signing is None:
            raise CommandError("set MLA_CHECKPOINT_SIGNING_KEY to write checkpoints")
        report: CheckpointReport = asyncio.run(
            in_transaction(settings, lambda session: write_checkpoint(session, SystemClock(), signing))
        )
    except CheckpointLogError as exc:
        raise CommandError(str(exc)) from exc
    finally:
        embedded.stop()
    for verdict in [*report.refused, *report.vanished]:
        print(f"NOT SIGNED {verdict.chain}: first broken link at seq {verdict.first_broken_seq}: {verdict.problem}")
    print(f"{report.signed} chain heads signed into {report.log}")
    if report.refused or report.vanished:
        raise SystemExit(1)


def cmd_audit_keys(_: Settings, __: argparse.Namespace) -> None:
    """Print a fresh HMAC key and checkpoint key pair as environment lines, once, for a .env file."""
    signing_key = new_signing_key()
    print(f"MLA_AUDIT_KEYS={new_audit_key(f'k{datetime.now(UTC):%Y%m%d}')}")
    print(f"MLA_CHECKPOINT_SIGNING_KEY={signing_key}")
    print(f"MLA_CHECKPOINT_PUBLIC_KEYS={public_key_text(signer_of(signing_key).public_key)}")


def cmd_audit_public_key(settings: Settings, _: argparse.Namespace) -> None:
    """Print the checkpoint signer's public key: what a verifier needs (MLA_CHECKPOINT_PUBLIC_KEYS)."""
    signer = checkpoint_signer(settings)
    if signer is None:
        raise CommandError("set MLA_CHECKPOINT_SIGNING_KEY")
    print(public_key_text(signer.public_key))


def show_progress(events: int) -> None:
    """One line on stderr, rewritten in place, for commands that walk large tables."""
    print(f"\r{events:,} events checked", end="", file=sys.stderr, flush=True)


def cmd_serve(settings: Settings, args: argparse.Namespace) -> None:
    settings, embedded = with_services(settings, redis=True)
    try:
        uvicorn.run(create_app(settings), host=args.host, port=args.port, log_config=None, access_log=False)
    finally:
        embedded.stop()


def cmd_worker(settings: Settings, args: argparse.Namespace) -> None:
    if args.now is not None and not args.burst:
        raise CommandError("--now acts as if it were another time: it is only for a --burst run")
    settings, embedded = with_services(with_running_mail_sink(settings), redis=True)
    clock = SystemClock()
    if args.burst:
        # A queue of its own: a running worker (e.g. `mla up`'s) must not take this run's jobs.
        settings = msgspec.structs.replace(settings, queue_name=f"{settings.queue_name}:burst:{uuid.uuid4().hex}")
    if args.now is not None:
        clock = FixedClock(args.now)
        print(
            f"mla worker: ACTING AS IF IT WERE {args.now.isoformat()}, not now: alerts and deliveries "
            "are decided as of that instant",
            file=sys.stderr,
            flush=True,
        )
    try:
        build_worker(settings, clock=clock, burst=args.burst).run()
    finally:
        embedded.stop()


# `mla up` without these settings: random secrets kept in the data folder (mode 0600), so tokens,
# audit chains and checkpoints stay valid across restarts. Setting -> (file, how to make one).
LOCAL_SECRETS: dict[str, tuple[str, Callable[[], str]]] = {
    "secret_key": ("secret-key", lambda: secrets.token_urlsafe(48)),
    "audit_keys": ("audit-keys", lambda: new_audit_key("local-1")),
    "checkpoint_signing_key": ("checkpoint-signing-key", new_signing_key),
}


def local_secrets(settings: Settings) -> Settings:
    kept = {}
    for name, (file_name, make) in LOCAL_SECRETS.items():
        if getattr(settings, name):
            continue
        path = Path(settings.data_dir) / file_name
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.touch(mode=0o600)
            path.write_text(make())
        kept[name] = path.read_text().strip()
    return msgspec.structs.replace(settings, **kept)


def cmd_up(settings: Settings, args: argparse.Namespace) -> None:
    # The demo world goes only into the embedded database `mla up` starts itself, or where --demo asks:
    # never into a database of the operator's without being asked.
    with_demo = args.demo or not settings.database_url
    settings, embedded = with_services(local_secrets(settings), redis=True)
    settings = msgspec.structs.replace(settings, ready_requires_worker=True)
    mail_sink = None
    try:
        if "MLA_SMTP_HOST" not in os.environ:
            mail_sink = start_mail_sink(mail_folder(settings))
            settings = use_mail_sink(settings, mail_sink.port)
        migrate_as_owner(settings)
        created = asyncio.run(seed(settings, SystemClock(), with_demo=with_demo))
        base = f"http://{args.host}:{args.port}"
        print_welcome(base, demo_summary(Path(settings.data_dir), with_demo=with_demo, created=created))
        if mail_sink is not None:
            print(
                f"outgoing e-mail is kept, not sent: one .eml file per message in {mail_folder(settings)}", flush=True
            )
        asyncio.run(serve_with_worker(settings, args.host, args.port))
    finally:
        if mail_sink is not None:
            mail_sink.stop()
        embedded.stop()


def mail_folder(settings: Settings) -> Path:
    return Path(settings.data_dir).resolve() / "mail"


def use_mail_sink(settings: Settings, port: int) -> Settings:
    return msgspec.structs.replace(settings, smtp_host=SINK_HOST, smtp_port=port)


def with_running_mail_sink(settings: Settings) -> Settings:
    """Without MLA_SMTP_HOST, send to the sink of an `mla up` running on the same data folder, if any."""
    port = None if "MLA_SMTP_HOST" in os.environ else running_mail_sink_port(mail_folder(settings))
    return settings if port is None else use_mail_sink(settings, port)


def demo_summary(data_dir: Path, *, with_demo: bool, created: dict[str, demo.DemoLogin] | None) -> list[str]:
    """What `mla up` says about the demo world; its credentials in full only when just seeded."""
    path = demo.credentials_file(data_dir).resolve()
    if not with_demo:
        return ["demo data:             none in a database of yours (`mla up --demo` would add it)"]
    if created:
        return [
            f"demo data:             seeded now; the credentials below are shown this once and kept in {path} "
            "(readable by you only)",
            "demo users (e-mail, password for POST /api/v1/auth/token, API token for Authorization: Bearer):",
            *demo_login_lines(created),
        ]
    where = f"are in {path} (readable by you only)" if path.exists() else "were shown when it was seeded"
    return [f"demo data:             kept from an earlier run; its credentials {where}"]


def print_welcome(base: str, demo_lines: list[str]) -> None:
    lines = [
        "",
        f"MLA tracker running at {base}",
        f"desk (in a browser):   {base}/desk/   (sign in with an e-mail and its password below)",
        f"API docs (OpenAPI):    {base}/schema   (JSON: {base}/schema/openapi.json)",
        *demo_lines,
        "",
    ]
    print("\n".join(lines), flush=True)


async def serve_with_worker(settings: Settings, host: str, port: int) -> None:
    """The API and a supervised worker in one process; Ctrl-C stops both."""
    config = uvicorn.Config(create_app(settings), host=host, port=port, log_config=None, access_log=False)
    server = uvicorn.Server(config)
    worker_task = asyncio.create_task(run_supervised(lambda: build_worker(settings, handle_signals=False)))
    try:
        await server.serve()
    finally:
        worker_task.cancel()
        # uvicorn raises the Ctrl-C again once it has stopped, which cancels this task: keep waiting
        # until the supervisor has closed its worker (a job may still be running, e.g. a checkpoint).
        while not worker_task.done():
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.shield(worker_task)


def rfc3339(value: str) -> datetime:
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError("give an offset, e.g. 2026-11-25T10:00:00+00:00")
    return moment


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="mla", description="MLA and e-evidence request tracker")
    commands = root.add_subparsers(dest="command", required=True)

    def add(
        name: str, handler: Callable[[Settings, argparse.Namespace], None], help_text: str
    ) -> argparse.ArgumentParser:
        command = commands.add_parser(name, help=help_text)
        command.set_defaults(handler=handler)
        return command

    for name, handler, text in (
        ("up", cmd_up, "run everything (embedded services if no URLs)"),
        ("serve", cmd_serve, "run the API"),
    ):
        command = add(name, handler, text)
        command.add_argument("--host", default=DEFAULT_HOST)
        command.add_argument("--port", type=int, default=DEFAULT_PORT)
    commands.choices["up"].add_argument(
        "--demo", action="store_true", help="seed the demo world even into the database MLA_DATABASE_URL names"
    )
    worker = add("worker", cmd_worker, "run the background worker")
    worker.add_argument("--burst", action="store_true", help="process everything due once, then exit")
    worker.add_argument("--now", type=rfc3339, help="the instant to treat as now (RFC 3339)")
    add("migrate", cmd_migrate, "apply database migrations")
    add("seed", cmd_seed, "seed the instrument catalogue").add_argument(
        "--demo", action="store_true", help="and the demo world"
    )

    users_parser = commands.add_parser("users", help="manage users").add_subparsers(dest="users_command", required=True)
    create = users_parser.add_parser("create", help="create a user and print an API token last")
    create.set_defaults(handler=cmd_users_create)
    create.add_argument("--email", required=True)
    create.add_argument("--name", required=True)
    create.add_argument("--org", required=True, help="organisation name")
    create.add_argument("--role", action="append", required=True, choices=[r.value for r in Role])
    create.add_argument("--org-kind", choices=[k.value for k in OrganisationKind])
    create.add_argument("--org-country")
    create.add_argument("--org-timezone", default="UTC")
    create.add_argument("--password")
    user_commands.add_commands(users_parser, cmd_users_life_cycle)

    audit_parser = commands.add_parser("audit", help="the audit trail").add_subparsers(
        dest="audit_command", required=True
    )
    verify = audit_parser.add_parser(
        "verify", help="recompute the keyed chains against the last checkpoint; exit 1 if any is broken"
    )
    verify.set_defaults(handler=cmd_audit_verify)
    verify.add_argument("--request", type=uuid.UUID, help="only this request's chain")
    audit_parser.add_parser("checkpoint", help="sign the heads of the chains that changed now").set_defaults(
        handler=cmd_audit_checkpoint
    )
    audit_parser.add_parser("public-key", help="print the checkpoint signer's public key").set_defaults(
        handler=cmd_audit_public_key
    )
    audit_parser.add_parser("keys", help="print fresh audit keys as environment lines, once").set_defaults(
        handler=cmd_audit_keys
    )
    return root


def main(argv: Sequence[str] | None = None) -> None:
    args = parser().parse_args(argv)
    configure_logging()
    debug = False
    try:
        settings = load_settings()
        debug = settings.debug
        args.handler(settings, args)
    except (CommandError, DomainError, ValueError, msgspec.ValidationError) as exc:
        print(f"mla: {exc}", file=sys.stderr)
        raise SystemExit(2) from exc
    except Exception as exc:
        if debug:
            raise
        print(f"mla: {type(exc).__name__}: {exc} (MLA_DEBUG=1 shows the traceback)", file=sys.stderr)
        raise SystemExit(1) from exc

"""The `mla` command: run the product (`up`), its production pieces, and operator tasks."""

import argparse
import asyncio
import secrets
import sys
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import msgspec
import uvicorn
from sqlalchemy.ext.asyncio import AsyncSession

from mla import demo
from mla.app import create_app
from mla.audit import service as audit
from mla.clock import Clock, FixedClock, SystemClock
from mla.db import create_engine, create_sessionmaker
from mla.embedded import EmbeddedServices, start_embedded_services
from mla.enums import OrganisationKind, Role
from mla.errors import DomainError
from mla.migrate import upgrade
from mla.observability.logs import configure_logging
from mla.organisations import service as organisations
from mla.organisations.schemas import OrganisationCreate
from mla.reference_data import seed_reference_data
from mla.settings import Settings, load_settings
from mla.users import service as users
from mla.users.schemas import UserCreate
from workers.settings import build_worker

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000


class CommandError(Exception):
    """A refusal worth one line on stderr and exit status 2."""


def with_services(settings: Settings, *, redis: bool) -> tuple[Settings, EmbeddedServices]:
    """Fill in missing URLs with embedded servers under the data folder (Redis only if asked)."""
    embedded = start_embedded_services(
        Path(settings.data_dir), postgres=not settings.database_url, redis=redis and not settings.redis_url
    )
    urls = {
        "database_url": settings.database_url or embedded.database_url,
        "redis_url": settings.redis_url or embedded.redis_url,
    }
    return msgspec.structs.replace(settings, **urls), embedded


async def in_transaction(settings: Settings, work: Callable[[AsyncSession], Awaitable[Any]]) -> Any:
    engine = create_engine(settings.database_url or "", null_pool=True)
    try:
        async with create_sessionmaker(engine)() as session, session.begin():
            return await work(session)
    finally:
        await engine.dispose()


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
        upgrade(settings.database_url or "")
        print("database at the latest schema")
    finally:
        embedded.stop()


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
        token = asyncio.run(in_transaction(settings, lambda session: create_user_with_token(session, args)))
    finally:
        embedded.stop()
    print(token)  # last line of stdout, for scripts


async def create_user_with_token(session: AsyncSession, args: argparse.Namespace) -> str:
    clock = SystemClock()
    organisation = await organisations.find_by_name(session, args.org)
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
    return await users.create_api_token(session, clock, None, user, "cli")


def cmd_audit_verify(settings: Settings, args: argparse.Namespace) -> None:
    settings, embedded = with_services(settings, redis=False)
    chain = None if args.request is None else audit.request_chain(args.request)
    try:
        verdicts = asyncio.run(
            in_transaction(settings, lambda session: audit.verify_chains(session, chain, show_progress))
        )
    finally:
        embedded.stop()
        print(file=sys.stderr)
    if chain is not None and not verdicts:
        print(f"mla: no audit events for request {args.request}", file=sys.stderr)
        raise SystemExit(1)
    broken = [v for v in verdicts if not v.valid]
    events = sum(v.events for v in verdicts)
    for verdict in broken:
        print(f"BROKEN {verdict.chain}: first broken link at seq {verdict.first_broken_seq}")
    print(f"{len(verdicts)} chains, {events} events, {len(broken)} broken")
    if broken:
        raise SystemExit(1)


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
    settings, embedded = with_services(settings, redis=True)
    clock = FixedClock(args.now) if args.now else SystemClock()
    try:
        build_worker(settings, clock=clock, burst=args.burst).run()
    finally:
        embedded.stop()


def local_secret(settings: Settings) -> Settings:
    """`mla up` without MLA_SECRET_KEY: a random key kept in the data folder, so tokens survive restarts."""
    if settings.secret_key:
        return settings
    path = Path(settings.data_dir) / "secret-key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return msgspec.structs.replace(settings, secret_key=path.read_text().strip())


def cmd_up(settings: Settings, args: argparse.Namespace) -> None:
    # The demo world goes only into the embedded database `mla up` starts itself, or where --demo asks:
    # never into a database of the operator's without being asked.
    with_demo = args.demo or not settings.database_url
    settings, embedded = with_services(local_secret(settings), redis=True)
    try:
        upgrade(settings.database_url or "")
        created = asyncio.run(seed(settings, SystemClock(), with_demo=with_demo))
        base = f"http://{args.host}:{args.port}"
        print_welcome(base, demo_summary(Path(settings.data_dir), with_demo=with_demo, created=created))
        asyncio.run(serve_with_worker(settings, args.host, args.port))
    finally:
        embedded.stop()


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
        f"API docs (OpenAPI):    {base}/schema   (JSON: {base}/schema/openapi.json)",
        *demo_lines,
        "",
    ]
    print("\n".join(lines), flush=True)


async def serve_with_worker(settings: Settings, host: str, port: int) -> None:
    """The API and the worker in one process; Ctrl-C stops both."""
    config = uvicorn.Config(create_app(settings), host=host, port=port, log_config=None, access_log=False)
    server = uvicorn.Server(config)
    worker = build_worker(settings, handle_signals=False)
    worker_task = asyncio.create_task(worker.async_run())
    try:
        await server.serve()
    finally:
        worker_task.cancel()
        await worker.close()


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

    audit_parser = commands.add_parser("audit", help="the audit trail").add_subparsers(
        dest="audit_command", required=True
    )
    verify = audit_parser.add_parser("verify", help="recompute the hash chains; exit 1 if any is broken")
    verify.set_defaults(handler=cmd_audit_verify)
    verify.add_argument("--request", type=uuid.UUID, help="only this request's chain")
    return root


def main(argv: Sequence[str] | None = None) -> None:
    args = parser().parse_args(argv)
    configure_logging()
    try:
        args.handler(load_settings(), args)
    except (CommandError, DomainError, ValueError, msgspec.ValidationError) as exc:
        print(f"mla: {exc}", file=sys.stderr)
        raise SystemExit(2) from exc

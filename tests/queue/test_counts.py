"""The queue's kept bucket counts equal a fresh count of the queue after every kind of move: submit,
assign, approve, transmit, fall overdue, the mark's advance, reject, withdraw, fulfil, incoming
requests; for officers and supervisors, confidential requests included."""

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from mla.clock import FixedClock
from mla.enums import CounterpartyKind, OrganisationKind, Role
from mla.queue import repository
from mla.queue.models import QueueCount, QueueCountMark
from mla.queue.schemas import QueueBucket, QueueCounts
from mla.requests.models import Request
from mla.users.principal import Principal
from tests.factories import EMERGENCY, Member, Org, World
from workers import jobs

SECRET = {"confidential": True, "confidentiality_reason": "The suspect is a serving police officer."}


async def recounted(session: AsyncSession, viewer: Principal, now: datetime) -> QueueCounts:
    """The counts as a fresh aggregate over the viewer's whole queue (what the page used to run)."""
    counts = [
        func.count().filter(repository.bucket_condition(bucket, now, viewer.user_id)).label(bucket.value)
        for bucket in QueueBucket
    ]
    row = (await session.execute(select(*counts).where(repository.in_queue_of(viewer)))).one()
    return QueueCounts(**{bucket.value: getattr(row, bucket.value) for bucket in QueueBucket})


def principal(org: Org, member: Member, role: Role) -> Principal:
    return Principal(member.id, org.id, frozenset({role.value}), member.email)


async def assert_exact(sessionmaker: async_sessionmaker[AsyncSession], now: datetime, *viewers: Principal) -> None:
    async with sessionmaker() as session, session.begin():
        for viewer in viewers:
            kept = await repository.bucket_counts(session, viewer, now)
            assert kept == await recounted(session, viewer, now), viewer


async def assign(world: World, org: Org, request: dict[str, Any], assignee: Member) -> dict[str, Any]:
    response = await world.client.post(
        f"/api/v1/requests/{request['id']}/assign",
        json={"user_id": str(assignee.id), "version": request["version"]},
        headers=org.headers(Role.SUPERVISOR),
    )
    assert response.status_code == 200, response.text
    return response.json()


async def test_kept_counts_equal_a_recount_after_every_move(world: World, clock: FixedClock) -> None:
    authority = await world.organisation(OrganisationKind.CENTRAL_AUTHORITY)
    prosecution = await world.organisation(central_authority=authority)
    officer = authority.members[Role.CENTRAL_AUTHORITY]
    colleague = await world.member(authority, Role.CENTRAL_AUTHORITY)
    viewers = (
        principal(authority, officer, Role.CENTRAL_AUTHORITY),
        principal(authority, colleague, Role.CENTRAL_AUTHORITY),
        principal(authority, authority.members[Role.SUPERVISOR], Role.SUPERVISOR),
    )
    case = await world.case(prosecution)
    target = await world.counterparty()

    async def check() -> None:
        await assert_exact(world.sessionmaker, clock.now(), *viewers)

    async def advance_the_mark() -> None:  # as the worker does every minute
        await jobs.advance_queue_counts({"sessionmaker": world.sessionmaker, "clock": clock})

    async def act(org: Org, role: Role, request: dict[str, Any], action: str, **fields: Any) -> dict[str, Any]:
        return await world.act(org, role, request, action, **fields)

    await advance_the_mark()  # before every due moment below (the migration set it to its own time)
    drafts = [await world.request(prosecution, case, target, **values) for values in ({}, SECRET, SECRET, EMERGENCY)]
    await check()
    plain, secret, other_secret, emergency = [await act(prosecution, Role.PROSECUTOR, d, "submit") for d in drafts]
    await check()
    secret = await assign(world, authority, secret, colleague)
    plain = await assign(world, authority, plain, officer)
    other_secret = await assign(world, authority, other_secret, officer)
    await check()
    secret = await assign(world, authority, secret, officer)  # moves from one officer's share to another's
    await check()
    await world.attest_pending(authority, emergency)
    emergency = await act(authority, Role.CENTRAL_AUTHORITY, emergency, "approve")
    await check()
    emergency = await act(authority, Role.CENTRAL_AUTHORITY, emergency, "transmit")
    await check()
    clock.set(datetime(2026, 11, 8, 10, 0, tzinfo=UTC))  # reviews due within 48 hours
    await check()
    clock.set(datetime(2026, 11, 11, 9, 0, tzinfo=UTC))  # overdue, without the mark having moved
    await check()
    await advance_the_mark()  # past the reviews' due moment
    await check()
    clock.set(datetime(2026, 11, 3, 9, 0, tzinfo=UTC))  # a clock behind the mark
    await check()
    clock.set(datetime(2026, 11, 11, 9, 0, tzinfo=UTC))
    await act(authority, Role.CENTRAL_AUTHORITY, other_secret, "reject", reason="Disproportionate to the offence.")
    await check()
    await act(prosecution, Role.PROSECUTOR, plain, "withdraw", reason="The suspect was identified otherwise.")
    await check()
    emergency = await act(authority, Role.CENTRAL_AUTHORITY, emergency, "acknowledge")
    await act(authority, Role.CENTRAL_AUTHORITY, emergency, "fulfil")
    await check()
    state = await world.counterparty(CounterpartyKind.STATE)
    own_case = await world.case(authority, role=Role.CENTRAL_AUTHORITY)
    incoming = {"direction": "incoming", "type": "mla", "instrument": "mlat"}
    await world.request(authority, own_case, state, filer=colleague, **incoming, **SECRET)
    await world.request(authority, own_case, state, **incoming)
    await check()
    clock.advance(timedelta(days=30))
    await check()


async def test_the_kept_rows_equal_a_rebuild_from_the_requests(world: World, clock: FixedClock) -> None:
    _, authority, _ = await world.transmitted()
    prosecution = await world.organisation(central_authority=authority)
    submitted = await world.act(
        prosecution,
        Role.PROSECUTOR,
        await world.request(prosecution, await world.case(prosecution), await world.counterparty(), **SECRET),
        "submit",
    )
    await assign(world, authority, submitted, authority.members[Role.CENTRAL_AUTHORITY])

    async with world.sessionmaker() as session, session.begin():
        kept = await authority_rows(session, authority)
        await repository.rebuild_counts(session, await session.scalar(select(QueueCountMark.counted_until)))
        rebuilt = await authority_rows(session, authority)
        await session.rollback()

    assert kept == rebuilt and len(kept) == 5  # open; confidential, its creator's, its assignee's; assigned


async def authority_rows(session: AsyncSession, authority: Org) -> set[tuple[Any, ...]]:
    columns = [getattr(QueueCount, c.key) for c in QueueCount.__table__.columns]
    rows = await session.execute(select(*columns).where(QueueCount.central_authority_id == authority.id))
    return {tuple(row) for row in rows if any(row[3:])}


async def test_a_request_that_never_reached_the_queue_counts_nowhere(world: World) -> None:
    prosecution, authority = await world.linked_pair()
    await world.request(prosecution, await world.case(prosecution), await world.counterparty())

    async with world.sessionmaker() as session:
        rows = await session.scalar(select(func.count()).where(QueueCount.central_authority_id == authority.id))
        in_queue = await session.scalar(select(func.count()).where(Request.central_authority_id == authority.id))

    assert rows == 0 and in_queue == 1


async def move_due(session: AsyncSession, request_id: str, due_at: datetime) -> None:
    """A writer that changes the running due moment (as the deadlines service does), any writer."""
    await session.execute(update(Request).where(Request.id == uuid.UUID(request_id)).values(next_due_at=due_at))


async def waits_on_a_lock(session: AsyncSession, pid: int) -> bool:
    query = (
        select(func.count())
        .select_from(text("pg_stat_activity"))
        .where(text("pid = :pid AND wait_event_type = 'Lock'").bindparams(pid=pid))
    )
    return bool(await session.scalar(query))


async def test_a_move_racing_the_marks_advance_is_counted_once(world: World, clock: FixedClock) -> None:
    """The advance counts from a snapshot that does not see a move still in flight; the move, once it
    commits, counts against the new mark. A move already counting holds the advance back until it commits."""
    prosecution, authority = await world.linked_pair()
    case, target = await world.case(prosecution), await world.counterparty()
    first, second = [
        await world.act(prosecution, Role.PROSECUTOR, await world.request(prosecution, case, target), "submit")
        for _ in range(2)
    ]
    viewer = principal(authority, authority.members[Role.SUPERVISOR], Role.SUPERVISOR)
    start = clock.now()
    async with world.sessionmaker() as session, session.begin():
        await repository.advance_counts(session, start)

    async with world.sessionmaker() as mover:
        await mover.begin()
        await move_due(mover, first["id"], start + timedelta(hours=1))  # falls due before the next mark
        async with world.sessionmaker() as advancer, advancer.begin():
            await repository.advance_counts(advancer, start + timedelta(hours=2))
        await mover.commit()
    await assert_exact(world.sessionmaker, start + timedelta(hours=2), viewer)

    async with world.sessionmaker() as mover, world.sessionmaker() as advancer, world.sessionmaker() as watcher:
        await mover.begin()
        await mover.execute(text("SET CONSTRAINTS ALL IMMEDIATE"))  # counts now, holding the mark's lock
        await move_due(mover, second["id"], start + timedelta(hours=3))
        await advancer.begin()
        pid = await advancer.scalar(select(func.pg_backend_pid()))
        advance = asyncio.create_task(repository.advance_counts(advancer, start + timedelta(hours=4)))
        while not await waits_on_a_lock(watcher, pid):  # each check yields to the advance's task
            assert not advance.done(), "the advance did not wait for the move counting against its mark"
        await mover.commit()
        await advance
        await advancer.commit()
    await assert_exact(world.sessionmaker, start + timedelta(hours=4), viewer)

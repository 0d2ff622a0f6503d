"""A workflow action reads what it needs once and writes the request row once (issue 11)."""

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from litestar import Litestar
from sqlalchemy import event

from mla.enums import Role
from tests.factories import World


@contextmanager
def statements_of(app: Litestar) -> Iterator[list[str]]:
    sent: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        sent.append(" ".join(statement.split()))

    event.listen(app.state.engine.sync_engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(app.state.engine.sync_engine, "before_cursor_execute", record)


def count(statements: list[str], pattern: str) -> int:
    return sum(1 for s in statements if re.search(pattern, s))


async def test_submit_reads_reference_data_from_the_cache_and_updates_the_request_row_once(
    app: Litestar, world: World
) -> None:
    prosecution, _ = await world.linked_pair()
    request = await world.request(prosecution, await world.case(prosecution), await world.counterparty())

    with statements_of(app) as sent:
        submitted = await world.act(prosecution, Role.PROSECUTOR, request, "submit")

    assert submitted["status"] == "under_review"
    assert count(sent, r"^UPDATE requests ") == 1
    assert count(sent, r"FROM (instruments|deadline_rules|organisations)\b") == 0  # the reference cache's
    assert count(sent, r"FROM requests") == 1  # the locked read, with whether the actor authored it
    assert count(sent, r"FROM cases") == 1  # the checks' input: case, target, attestations and treaty at once
    assert count(sent, r"^INSERT INTO deadlines ") == 1  # the review clock
    assert count(sent, r"lock_audit_chain") == 1  # the chain locked and its head read in one statement
    assert count(sent, r"^INSERT INTO audit_events ") == 1

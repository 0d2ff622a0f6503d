"""The reference data every installation starts with: the legal instruments, the deadline rules, the treaties."""

from sqlalchemy.ext.asyncio import AsyncSession

from mla.clock import Clock
from mla.deadlines.catalogue import seed_rules
from mla.instruments.catalogue import seed_catalogue
from mla.treaties.catalogue import seed_treaties


async def seed_reference_data(session: AsyncSession, clock: Clock) -> dict[str, int]:
    """Insert what is missing (never overwriting edits); returns how many of each were new."""
    return {
        "instrument catalogue": await seed_catalogue(session, clock),
        "deadline rules": await seed_rules(session, clock),
        "treaties and their parties": await seed_treaties(session, clock),
    }

"""The webhooks' queries, each scoped to one organisation; the secret is written, never read back here."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import literal, select, true, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from mla.alerts.models import Webhook
from mla.alerts.schemas import WebhookOut
from mla.organisations.models import Organisation
from mla.pagination import Page, keyset, page_of

_webhooks = Webhook.__table__.c
_SHOWN = (_webhooks.id, _webhooks.organisation_id, _webhooks.url, _webhooks.active, _webhooks.created_at)


def to_out(row: Any) -> WebhookOut:
    return WebhookOut(
        id=row.id, organisation_id=row.organisation_id, url=row.url, active=row.active, created_at=row.created_at
    )


async def insert_webhook(
    session: AsyncSession, organisation_id: uuid.UUID, url: str, secret: str, now: datetime
) -> WebhookOut | None:
    """Store an active webhook of the organisation; None if there is no such organisation."""
    organisation = select(
        literal(uuid.uuid4()), Organisation.__table__.c.id, literal(url), literal(secret), true(), literal(now)
    ).where(Organisation.__table__.c.id == organisation_id)
    columns = ("id", "organisation_id", "url", "secret", "active", "created_at")
    inserted = insert(Webhook.__table__).from_select(columns, organisation).returning(*_SHOWN)
    row = (await session.execute(inserted)).first()
    return None if row is None else to_out(row)


async def deactivate(
    session: AsyncSession, webhook_id: uuid.UUID, organisation_id: uuid.UUID | None
) -> tuple[WebhookOut, bool] | None:
    """Deactivate a webhook (of `organisation_id`, unless None); returns it and whether it was active before.

    None if there is no such webhook there.
    """
    before = select(_webhooks.id, _webhooks.active).where(_webhooks.id == webhook_id)
    if organisation_id is not None:
        before = before.where(_webhooks.organisation_id == organisation_id)
    old = before.with_for_update().cte("old")
    deactivated = (
        update(Webhook.__table__)
        .where(_webhooks.id == old.c.id)
        .values(active=False)
        .returning(*_SHOWN, old.c.active.label("was_active"))
    )
    row = (await session.execute(deactivated)).first()
    return None if row is None else (to_out(row), row.was_active)


async def list_webhooks(
    session: AsyncSession, organisation_id: uuid.UUID, cursor: str | None, limit: int
) -> Page[WebhookOut]:
    """One organisation's webhooks, newest first."""
    query = select(*_SHOWN).where(_webhooks.organisation_id == organisation_id)
    rows = (await session.execute(keyset(query, Webhook.created_at, Webhook.id, cursor, limit))).all()
    return page_of(rows, limit, to_out)

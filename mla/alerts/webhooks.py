"""An organisation's webhooks, administered by its own admins: registered, listed, deactivated, audited
on the organisation's administration chain. Another organisation's webhook answers 404, as a missing one.

The secret is stored to sign deliveries; it is never returned, logged or written to the audit trail.
A URL whose host is itself a refused address (loopback, private ... in any spelling: see
`mla.alerts.targets`) is refused at registration; names are checked at every delivery.
"""

import uuid

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mla.alerts import targets
from mla.alerts.models import Webhook
from mla.alerts.schemas import WebhookCreate, WebhookOut
from mla.audit import service as audit
from mla.clock import Clock
from mla.errors import NotFound, Unprocessable
from mla.organisations.models import Organisation
from mla.pagination import Page, fetch_page
from mla.users.administration import no_such_organisation
from mla.users.principal import Principal


def to_out(webhook: Webhook) -> WebhookOut:
    return msgspec.convert(webhook, WebhookOut, from_attributes=True)


REFUSED_TARGET = (
    "webhooks may only reach public addresses: the URL names a loopback, private, link-local, multicast, "
    "unspecified or reserved address (an installation may allow networks in MLA_WEBHOOK_ALLOWED_NETWORKS)"
)


async def create_webhook(
    session: AsyncSession,
    clock: Clock,
    actor: Principal | None,
    data: WebhookCreate,
    allowed_networks: tuple[targets.Network, ...] = (),
) -> Webhook:
    """Register an active webhook; refuses an organisation the actor does not administer (422, like a
    missing one) and a URL naming a refused address (422)."""
    check_target(data.url, allowed_networks)
    foreign = actor is not None and data.organisation_id != actor.organisation_id
    if foreign or await session.get(Organisation, data.organisation_id) is None:
        raise no_such_organisation()
    webhook = Webhook(
        id=uuid.uuid4(),
        organisation_id=data.organisation_id,
        url=data.url,
        secret=data.secret,
        active=True,
        created_at=clock.now(),
    )
    session.add(webhook)
    await session.flush()
    await audit.record(
        session,
        clock,
        actor,
        audit.AuditEntry(
            action="create_webhook",
            chain=audit.admin_chain(webhook.organisation_id),
            organisation_id=webhook.organisation_id,
            changes={"webhook_id": str(webhook.id), "url": webhook.url},
        ),
    )
    return webhook


def check_target(url: str, allowed_networks: tuple[targets.Network, ...]) -> None:
    try:
        targets.check_url(url, allowed_networks)
    except targets.TargetRefused:
        raise Unprocessable(REFUSED_TARGET, errors=[{"field": "url", "message": REFUSED_TARGET}]) from None


async def deactivate_webhook(
    session: AsyncSession, clock: Clock, actor: Principal | None, webhook_id: uuid.UUID
) -> Webhook:
    """Stop sending to a webhook (idempotent); its pending deliveries fail instead of being sent."""
    query = select(Webhook).where(Webhook.id == webhook_id)
    if actor is not None:
        query = query.where(Webhook.organisation_id == actor.organisation_id)
    webhook = await session.scalar(query.with_for_update())
    if webhook is None:
        raise NotFound("No such webhook.")
    if webhook.active:
        webhook.active = False
        await audit.record(
            session,
            clock,
            actor,
            audit.AuditEntry(
                action="deactivate_webhook",
                chain=audit.admin_chain(webhook.organisation_id),
                organisation_id=webhook.organisation_id,
                changes={"webhook_id": str(webhook.id), "url": webhook.url, "active": False},
            ),
        )
    return webhook


async def list_webhooks(
    session: AsyncSession, organisation_id: uuid.UUID, cursor: str | None, limit: int
) -> Page[WebhookOut]:
    """One organisation's webhooks, newest first."""
    query = select(Webhook).where(Webhook.organisation_id == organisation_id)
    return await fetch_page(session, query, Webhook, cursor, limit, to_out)

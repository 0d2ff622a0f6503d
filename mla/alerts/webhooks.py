"""An organisation's webhooks, administered by its own admins: registered, listed, deactivated, audited
on the organisation's administration chain. Another organisation's webhook answers 404, as a missing one.

The secret is stored to sign deliveries; it is never returned, logged or written to the audit trail.
A URL whose host is itself a refused address (loopback, private ... in any spelling: see
`mla.alerts.targets`) is refused at registration; names are checked at every delivery.
"""

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from mla.alerts import targets
from mla.alerts import webhook_repository as repository
from mla.alerts.schemas import WebhookCreate, WebhookOut
from mla.audit import service as audit
from mla.clock import Clock
from mla.errors import NotFound, Unprocessable
from mla.pagination import Page
from mla.users.administration import no_such_organisation
from mla.users.principal import Principal

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
) -> WebhookOut:
    """Register an active webhook; refuses an organisation the actor does not administer (422, like a
    missing one) and a URL naming a refused address (422)."""
    check_target(data.url, allowed_networks)
    if actor is not None and data.organisation_id != actor.organisation_id:
        raise no_such_organisation()
    webhook = await repository.insert_webhook(session, data.organisation_id, data.url, data.secret, clock.now())
    if webhook is None:
        raise no_such_organisation()
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
) -> WebhookOut:
    """Stop sending to a webhook (idempotent); its pending deliveries fail instead of being sent."""
    deactivated = await repository.deactivate(session, webhook_id, None if actor is None else actor.organisation_id)
    if deactivated is None:
        raise NotFound("No such webhook.")
    webhook, was_active = deactivated
    if was_active:
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
    return await repository.list_webhooks(session, organisation_id, cursor, limit)

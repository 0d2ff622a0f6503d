import uuid

from litestar import Controller, get, post
from litestar.params import Parameter
from litestar.status_codes import HTTP_200_OK
from sqlalchemy.ext.asyncio import AsyncSession

from mla.alerts import delivery_repository, webhooks
from mla.alerts.schemas import DeliveryOut, DeliveryStatus, WebhookCreate, WebhookOut
from mla.clock import Clock
from mla.enums import Role
from mla.guards import requires
from mla.pagination import DEFAULT_LIMIT, Page
from mla.settings import Settings
from mla.users.principal import Principal


class AdminWebhookController(Controller):
    path = "/api/v1/admin/webhooks"
    tags = ["admin"]
    guards = [requires(Role.ADMIN)]

    @post("/")
    async def create_webhook(
        self, data: WebhookCreate, session: AsyncSession, clock: Clock, principal: Principal, settings: Settings
    ) -> WebhookOut:
        """Register an organisation's webhook (the secret is never shown again)

        Your organisation's admins only. `url` must reach a public address: loopback, private, link-local,
        multicast, unspecified and reserved addresses, in any spelling, are refused (422) unless the
        installation allows their network (`MLA_WEBHOOK_ALLOWED_NETWORKS`); a name is resolved and checked again
        at every delivery, and redirects are not followed.

        Each alert is POSTed to `url` as JSON with the headers `X-MLA-Timestamp` (unix seconds),
        `X-MLA-Webhook-Id`, `Idempotency-Key` (the delivery's id, the same on every retry) and
        `X-MLA-Signature: sha256=<hex HMAC-SHA256 keyed with the secret of
        "{timestamp}.{webhook_id}.{idempotency_key}.{body}">`. Receivers verify it with
        `mla.alerts.signature.verify_webhook`, refuse timestamps more than 5 minutes old and drop
        repeated `Idempotency-Key`s. Audited.
        """
        return await webhooks.create_webhook(session, clock, principal, data, settings.webhook_networks)

    @get("/")
    async def list_webhooks(
        self,
        session: AsyncSession,
        principal: Principal,
        cursor: str | None = None,
        limit: int = Parameter(default=DEFAULT_LIMIT, ge=1, le=200),
    ) -> Page[WebhookOut]:
        """Your organisation's webhooks

        Your organisation's admins only, newest first; secrets are never shown.
        """
        return await webhooks.list_webhooks(session, principal.organisation_id, cursor, limit)

    @post("/{webhook_id:uuid}/deactivate", status_code=HTTP_200_OK)
    async def deactivate_webhook(
        self, webhook_id: uuid.UUID, session: AsyncSession, clock: Clock, principal: Principal
    ) -> WebhookOut:
        """Stop sending to a webhook

        Your organisation's admins only. Its pending deliveries fail instead of being sent. Idempotent. Answers
        the webhook; audited.
        """
        return await webhooks.deactivate_webhook(session, clock, principal, webhook_id)


class AdminDeliveryController(Controller):
    path = "/api/v1/admin/deliveries"
    tags = ["admin"]
    guards = [requires(Role.ADMIN)]

    @get("/")
    async def list_deliveries(
        self,
        session: AsyncSession,
        principal: Principal,
        status: DeliveryStatus | None = None,
        cursor: str | None = None,
        limit: int = Parameter(default=DEFAULT_LIMIT, ge=1, le=200),
    ) -> Page[DeliveryOut]:
        """Alert deliveries to your organisation's people and webhooks: status, attempts, last error

        Your organisation's admins only, newest first, `status` to filter (e.g. `failed`). Each e-mail or
        webhook delivery with its attempts and the last error, to see what did not arrive.
        """
        return await delivery_repository.list_deliveries(session, principal.organisation_id, status, cursor, limit)

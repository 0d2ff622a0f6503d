import uuid

from litestar import Controller, get, post
from litestar.params import Parameter
from litestar.status_codes import HTTP_200_OK
from sqlalchemy.ext.asyncio import AsyncSession

from mla.alerts import delivery, webhooks
from mla.alerts.schemas import DeliveryOut, DeliveryStatus, WebhookCreate, WebhookOut
from mla.clock import Clock
from mla.enums import Role
from mla.guards import requires
from mla.pagination import DEFAULT_LIMIT, Page
from mla.users.principal import Principal

SIGNING = (
    "Each alert is POSTed to `url` as JSON with the headers `X-MLA-Timestamp` (unix seconds), "
    '`X-MLA-Signature: sha256=<hex HMAC-SHA256 of "{timestamp}.{body}" keyed with the secret>` and '
    "`Idempotency-Key` (the delivery's id, the same on every retry). A non-2xx answer is retried with "
    "backoff (1, 2, 4 ... minutes, at most an hour), up to 8 attempts."
)


class AdminWebhookController(Controller):
    path = "/api/v1/admin/webhooks"
    tags = ["admin"]
    guards = [requires(Role.ADMIN)]

    @post("/", summary="Register an organisation's webhook (the secret is never shown again)", description=SIGNING)
    async def create_webhook(
        self, data: WebhookCreate, session: AsyncSession, clock: Clock, principal: Principal
    ) -> WebhookOut:
        return webhooks.to_out(await webhooks.create_webhook(session, clock, principal, data))

    @get("/", summary="Your organisation's webhooks")
    async def list_webhooks(
        self,
        session: AsyncSession,
        principal: Principal,
        cursor: str | None = None,
        limit: int = Parameter(default=DEFAULT_LIMIT, ge=1, le=200),
    ) -> Page[WebhookOut]:
        return await webhooks.list_webhooks(session, principal.organisation_id, cursor, limit)

    @post("/{webhook_id:uuid}/deactivate", summary="Stop sending to a webhook", status_code=HTTP_200_OK)
    async def deactivate_webhook(
        self, webhook_id: uuid.UUID, session: AsyncSession, clock: Clock, principal: Principal
    ) -> WebhookOut:
        return webhooks.to_out(await webhooks.deactivate_webhook(session, clock, principal, webhook_id))


class AdminDeliveryController(Controller):
    path = "/api/v1/admin/deliveries"
    tags = ["admin"]
    guards = [requires(Role.ADMIN)]

    @get("/", summary="Alert deliveries to your organisation's people and webhooks: status, attempts, last error")
    async def list_deliveries(
        self,
        session: AsyncSession,
        principal: Principal,
        status: DeliveryStatus | None = None,
        cursor: str | None = None,
        limit: int = Parameter(default=DEFAULT_LIMIT, ge=1, le=200),
    ) -> Page[DeliveryOut]:
        return await delivery.list_deliveries(session, principal.organisation_id, status, cursor, limit)

"""`GET /metrics` for Prometheus, behind a bearer token of its own (`MLA_METRICS_TOKEN`).

User tokens do not open it, and it opens nothing else: the scraper needs no account. Without the
setting every scrape is refused. The route reads Redis only (see `mla.observability.metrics`).
"""

import hmac
from typing import Any

from litestar import Controller, Response, get
from litestar.connection import ASGIConnection
from litestar.datastructures import State
from litestar.exceptions import NotAuthorizedException
from litestar.handlers import BaseRouteHandler
from prometheus_client import CONTENT_TYPE_LATEST

from mla.observability import metrics
from mla.settings import Settings


def requires_metrics_token(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Refuse (401) unless `Authorization: Bearer <MLA_METRICS_TOKEN>` (compared in constant time)."""
    expected = connection.app.state.settings.metrics_token.encode()
    scheme, _, token = connection.headers.get("authorization", "").partition(" ")
    if not expected or scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), expected):
        raise NotAuthorizedException("Send 'Authorization: Bearer <MLA_METRICS_TOKEN>'.", headers=_CHALLENGE)


_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="metrics"'}


class MetricsController(Controller):
    path = "/metrics"
    tags = ["health"]
    include_in_schema = False
    guards = [requires_metrics_token]

    @get("/", summary="Prometheus metrics")
    async def scrape(self, state: State, settings: Settings) -> Response[bytes]:
        return Response(await metrics.scrape(state.redis, settings.queue_name), media_type=CONTENT_TYPE_LATEST)

"""Per-request observation: a request id on every log line and response, one access line, latency metrics."""

import logging
import re
import time
import uuid

from litestar.types import ASGIApp, Message, Receive, Scope, Send

from mla.observability.logs import request_id_var
from mla.observability.metrics import HTTP_LATENCY

log = logging.getLogger("mla.http")
_CLIENT_ID = re.compile(r"^[A-Za-z0-9._\-]{1,64}$")


def observe_requests(app: ASGIApp) -> ASGIApp:
    """ASGI middleware factory: honours a well-formed incoming `X-Request-ID`, else makes one."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if _CLIENT_ID.match(incoming) else uuid.uuid4().hex
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = scope.get("path_template") or "unmatched"
            HTTP_LATENCY.labels(scope["method"], route, str(status)).observe(elapsed)
            fields = {"method": scope["method"], "route": route, "status": status, "ms": round(elapsed * 1000, 2)}
            log.info("%s %s %s", scope["method"], route, status, extra={"fields": fields})
            request_id_var.reset(token)

    return middleware

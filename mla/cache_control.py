"""`Cache-Control: no-store` on every answer of the API, so no browser, proxy or CDN keeps a copy.

Every answer under `/api/v1` carries case data, a token or something derived from them (a list,
a CSV export, an audit trail, even a problem detail naming a field): one rule for all of them,
in one place, rather than a header each route could forget. It is a `before_send` hook, so it
also reaches the answers that Litestar's exception handling sends past the middleware (a 401 from
the authentication middleware). `/health`, `/metrics` and the API docs are left to their defaults.
"""

from litestar.datastructures import MutableScopeHeaders
from litestar.types import Message, Scope

API_PREFIX = "/api/v1/"


async def no_store_for_api(message: Message, scope: Scope) -> None:
    """Replace any `Cache-Control` of an `/api/v1` answer by `no-store`."""
    if message["type"] == "http.response.start" and scope["path"].startswith(API_PREFIX):
        MutableScopeHeaders.from_message(message)["cache-control"] = "no-store"

"""Browser assets the app serves itself, so the desk and the API docs work with no internet."""

from pathlib import Path

from litestar import Router
from litestar.datastructures import CacheControlHeader
from litestar.openapi.plugins import OpenAPIRenderPlugin, ScalarRenderPlugin, SwaggerRenderPlugin
from litestar.static_files import create_static_files_router

STATIC_DIR = Path(__file__).parent / "static"
STATIC_PATH = "/desk/static"


def static_url(name: str) -> str:
    return f"{STATIC_PATH}/{name}"


FAVICON = f"<link rel='icon' type='image/svg+xml' href='{static_url('favicon.svg')}'>"


def static_router() -> Router:
    """`/desk/static/...`: public (no sign-in), cached for an hour."""
    return create_static_files_router(
        path=STATIC_PATH,
        directories=[STATIC_DIR],
        name="desk-static",
        cache_control=CacheControlHeader(max_age=3600),
        opt={"exclude_from_auth": True},
        include_in_schema=False,
    )


def api_docs_plugins() -> list[OpenAPIRenderPlugin]:
    """Scalar at /schema and Swagger UI at /schema/swagger, loading only vendored files (no CDN, no web fonts)."""
    return [
        ScalarRenderPlugin(
            js_url=static_url("vendor/scalar/standalone.js"),
            css_url=static_url("api-docs.css"),
            options={"withDefaultFonts": False},
            favicon=FAVICON,
        ),
        SwaggerRenderPlugin(
            path="/swagger",
            js_url=static_url("vendor/swagger-ui/swagger-ui-bundle.js"),
            css_url=static_url("vendor/swagger-ui/swagger-ui.css"),
            standalone_preset_js_url=static_url("vendor/swagger-ui/swagger-ui-standalone-preset.js"),
            favicon=FAVICON,
        ),
    ]

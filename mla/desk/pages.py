"""Rendering desk pages: the template engine, what every page shows in its header, and error pages."""

import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar

import msgspec
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from litestar import Controller, Request, Response
from litestar.di import Provide
from litestar.exceptions import PermissionDeniedException
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Redirect, Template
from litestar.template import TemplateConfig
from sqlalchemy.ext.asyncio import AsyncSession

from mla.alerts import notifications
from mla.clock import Clock
from mla.desk import formatting
from mla.desk.assets import static_url
from mla.desk.session import CSRF_FIELD, CsrfRefused, DeskSession, SignInRequired, signed_in
from mla.enums import Role
from mla.errors import DomainError, StaleVersion, Unprocessable
from mla.fields import IDENTIFIER_MAX_LENGTH
from mla.local_time import local_time
from mla.organisations import service as organisations
from mla.queue.service import QUEUE_ROLES
from mla.users.principal import Principal

T = TypeVar("T")
TEMPLATES = Path(__file__).parent / "templates"
LOGIN_PATH = "/desk/login"


def _environment() -> Environment:
    environment = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True),
        undefined=StrictUndefined,  # a misspelt name fails the page (and its test), never renders empty
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters.update(
        plain=formatting.plain,
        local=local_time,
        local_input=formatting.local_input_value,
        time_left=formatting.time_left,
    )
    environment.globals.update(static=static_url)
    return environment


TEMPLATE_CONFIG = TemplateConfig(instance=JinjaTemplateEngine.from_environment(_environment()))


@dataclass(frozen=True)
class Viewer:
    """The signed-in user as every page shows them: header, time zone, CSRF token."""

    principal: Principal
    organisation: str
    zone: str
    unread: int
    csrf: str
    now: datetime

    @property
    def is_officer(self) -> bool:
        return self.principal.has_any(*QUEUE_ROLES)

    @property
    def is_prosecutor(self) -> bool:
        return self.principal.has_any(Role.PROSECUTOR)


async def provide_viewer(
    request: Request[Any, Any, Any], session: AsyncSession, clock: Clock, principal: Principal
) -> Viewer:
    organisation = await organisations.get_organisation(session, principal.organisation_id)
    desk_session: DeskSession = request.auth
    return Viewer(
        principal=principal,
        organisation=organisation.name,
        zone=organisation.timezone,
        unread=await notifications.unread_count(session, principal),
        csrf=desk_session.csrf,
        now=clock.now(),
    )


SearchText = Annotated[str, msgspec.Meta(max_length=100, pattern=r"\A[^\x00]*\Z")]  # as the API's `q`
IdentifierText = Annotated[str, msgspec.Meta(max_length=IDENTIFIER_MAX_LENGTH, pattern=r"\A[^\x00]*\Z")]  # `identifier`
Cursor = Annotated[str, msgspec.Meta(max_length=200)]


def as_input(fields: Mapping[str, Any], target: type[T], **values: Any) -> T:
    """A form's or query string's filled-in fields (and `values`) as an input Struct: the API's rules, its 422.

    An empty field is an absent one: "any" in a filter, nothing typed in a form.
    """
    given = {name: value for name, value in fields.items() if name != CSRF_FIELD and value != ""} | values
    try:
        return msgspec.convert(given, target, strict=False)
    except msgspec.ValidationError as exc:
        raise Unprocessable(f"Please correct this: {exc}.") from exc


class DeskController(Controller):
    """A desk page's controller: signed in, and every handler may ask for the `viewer`."""

    guards = [signed_in]
    dependencies = {"viewer": Provide(provide_viewer)}


def is_htmx(request: Request[Any, Any, Any]) -> bool:
    return request.headers.get("HX-Request") == "true"


def current_page(request: Request[Any, Any, Any]) -> str:
    """The page the user is on: htmx names it (a fragment's own address is no page); else the address asked for.
    Only a path of ours, never another site."""
    shown = urllib.parse.urlsplit(request.headers.get("HX-Current-URL", ""))
    if not shown.path.startswith("/desk/"):
        shown = urllib.parse.urlsplit(str(request.url))
    return shown.path + (f"?{shown.query}" if shown.query else "")


def page(viewer: Viewer | None, name: str, *, status: int = 200, **context: Any) -> Template:
    return Template(template_name=name, context={"viewer": viewer, **context}, status_code=status)


def go_to(request: Request[Any, Any, Any], url: str) -> Response[Any]:
    """After a write: htmx loads `url` as a new page (reloads it, keeping the scroll, if it is the page shown);
    a plain form is redirected (303, so reloading the result never posts again)."""
    if not is_htmx(request):
        return Redirect(url, status_code=303)
    header = {"HX-Refresh": "true"} if current_page(request) == url else {"HX-Redirect": url}
    return Response(content=None, status_code=204, headers=header)


def sign_in_required(request: Request[Any, Any, Any], exc: SignInRequired) -> Response[Any]:
    query = {"next": current_page(request)} | ({"ended": "1"} if exc.ended else {})
    return go_to(request, f"{LOGIN_PATH}?{urllib.parse.urlencode(query)}")


def csrf_refused(request: Request[Any, Any, Any], _: CsrfRefused) -> Response[Any]:
    detail = "This form has expired or did not come from this page. Reload the page and try again; nothing was changed."
    return _problem(request, 403, "Refused", detail)


def domain_error(request: Request[Any, Any, Any], exc: DomainError) -> Response[Any]:
    """The API's refusals (404 unseen, 403, 409, 422...) as a page, or as a message inside an htmx form."""
    if isinstance(exc, StaleVersion):
        return _problem(request, exc.status_code, "Changed since you opened it", exc.detail, reload=True)
    return _problem(request, exc.status_code, exc.title, exc.detail)


def role_refused(request: Request[Any, Any, Any], exc: PermissionDeniedException) -> Response[Any]:
    """A route the user's role never reaches (a platform administrator on any case page): say so, offer sign-out."""
    return _problem(request, exc.status_code, "Not for your role", exc.detail)


def _problem(
    request: Request[Any, Any, Any], status: int, title: str, detail: str, *, reload: bool = False
) -> Template:
    # Error pages are plain: no header figures, which would need the transaction that just failed.
    name = "_problem.html" if is_htmx(request) else "problem.html"
    desk_session = request.scope.get("auth")
    context = {
        "title": title,
        "detail": detail,
        "reload_url": current_page(request) if reload else None,
        # Signed in: the page offers to sign out (a user whose role the desk refuses has no other way).
        "sign_out_csrf": desk_session.csrf if isinstance(desk_session, DeskSession) else None,
    }
    return page(None, name, status=status, **context)


EXCEPTION_HANDLERS = {
    SignInRequired: sign_in_required,
    CsrfRefused: csrf_refused,
    DomainError: domain_error,
    PermissionDeniedException: role_refused,
}

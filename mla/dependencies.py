"""Values every handler may ask for by name: session, clock, settings, principal."""

from typing import Any

from litestar import Request
from litestar.datastructures import State
from litestar.di import Provide

from mla.clock import Clock
from mla.db import provide_transaction
from mla.settings import Settings
from mla.users.principal import Principal


def provide_clock(state: State) -> Clock:
    return state.clock


def provide_settings(state: State) -> Settings:
    return state.settings


def provide_principal(request: Request[Any, Any, Any]) -> Principal:
    return request.user


DEPENDENCIES = {
    "session": Provide(provide_transaction),
    "clock": Provide(provide_clock, sync_to_thread=False),
    "settings": Provide(provide_settings, sync_to_thread=False),
    "principal": Provide(provide_principal, sync_to_thread=False),
}

"""The Litestar application: routes, auth, problem details, and the resources it holds."""

from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager

from arq.connections import ArqRedis
from litestar import Litestar
from litestar.datastructures import State
from litestar.logging import LoggingConfig
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme
from redis.asyncio import ConnectionPool

from mla.alerts.admin_api import AdminDeliveryController, AdminWebhookController
from mla.alerts.api import NotificationController
from mla.api_input import ApiContract, check_api_input
from mla.audit.admin_api import AdminAuditController
from mla.audit.api import AuditController
from mla.audit.keys import AuditKeyring
from mla.cache_control import no_store_for_api
from mla.cases.api import CaseController
from mla.checks.api import CheckController
from mla.clock import Clock, SystemClock
from mla.communications.api import CommunicationController
from mla.counterparties.api import AdminCounterpartyController, CounterpartyController
from mla.db import close_request_sessions, create_engine, create_sessionmaker
from mla.deadlines.api import DeadlineCalculatorController, RequestDeadlineController
from mla.deadlines.rules_api import AdminDeadlineRuleController, DeadlineRuleController
from mla.dependencies import DEPENDENCIES
from mla.desk.assets import api_docs_plugins
from mla.desk.routes import DeskPlugin
from mla.errors import EXCEPTION_HANDLERS
from mla.guards import keep_platform_admins_out
from mla.health import HealthController
from mla.instruments.api import AdminInstrumentController, InstrumentController
from mla.observability.api import MetricsController
from mla.observability.middleware import observe_requests
from mla.openapi_problems import document_problems
from mla.organisations.api import AdminOrganisationController
from mla.productions.api import ProductionController
from mla.queue.api import QueueController
from mla.requests.api import RequestController
from mla.settings import Settings
from mla.stats.api import RequestExportController, StatsController
from mla.treaties.api import AdminTreatyController, TreatyController
from mla.users.admin_api import AdminUserController
from mla.users.api import AuthController
from mla.users.authentication import PUBLIC_PATHS, BearerAuthenticationMiddleware
from mla.users.login_limits import LoginLimits
from mla.workflow.api import WorkflowController

ROUTES = [
    HealthController,
    MetricsController,
    AuthController,
    AdminOrganisationController,
    AdminUserController,
    AdminCounterpartyController,
    AdminInstrumentController,
    CounterpartyController,
    InstrumentController,
    TreatyController,
    AdminTreatyController,
    CaseController,
    RequestExportController,
    StatsController,
    RequestController,
    WorkflowController,
    AuditController,
    ProductionController,
    CommunicationController,
    CheckController,
    RequestDeadlineController,
    DeadlineCalculatorController,
    QueueController,
    DeadlineRuleController,
    AdminDeadlineRuleController,
    NotificationController,
    AdminWebhookController,
    AdminDeliveryController,
    AdminAuditController,
]


def create_app(settings: Settings, clock: Clock | None = None) -> Litestar:
    """Build the API. `settings.database_url` and `settings.redis_url` must be set."""
    if not settings.database_url or not settings.redis_url:
        raise ValueError("the API needs MLA_DATABASE_URL and MLA_REDIS_URL (or `mla up`, which starts both)")
    if len(settings.secret_key) < 16:
        raise ValueError("set MLA_SECRET_KEY to a random string of at least 16 characters (it signs access tokens)")

    app = Litestar(
        route_handlers=ROUTES,
        lifespan=[hold_resources],
        state=_initial_state(settings, clock or SystemClock()),
        dependencies=DEPENDENCIES,
        guards=[keep_platform_admins_out],
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
        middleware=[
            observe_requests,
            close_request_sessions,
            DefineMiddleware(BearerAuthenticationMiddleware, exclude=PUBLIC_PATHS),
        ],
        before_request=check_api_input,
        before_send=[no_store_for_api],
        openapi_config=_openapi(),
        plugins=[DeskPlugin()],
        request_max_body_size=settings.max_body_bytes,
        logging_config=LoggingConfig(
            # Our JSON handler on the root logger writes Litestar's lines too (see mla.observability.logs).
            configure_root_logger=False,
            loggers={"litestar": {"level": "INFO", "handlers": [], "propagate": True}},
            log_exceptions="never",  # mla.errors logs what is a server error, once
        ),
        debug=False,
    )
    document_problems(app)
    # What each operation accepts, as the OpenAPI document declares it (see mla.api_input).
    app.state.api_contract = ApiContract(app.openapi_schema.to_schema())
    return app


@asynccontextmanager
async def hold_resources(app: Litestar) -> AsyncGenerator[None, None]:
    """Open the database pool and the Redis client for the app's lifetime (also used by tests)."""
    settings: Settings = app.state.settings
    keyring = AuditKeyring.from_settings(settings)  # refuses to start without the audit keys
    engine = create_engine(settings.database_url or "", pool_size=settings.database_pool_size)
    # Built without connecting: the API starts, and answers, while Redis is down.
    redis = ArqRedis(connection_pool=ConnectionPool.from_url(settings.redis_url or ""))
    login_limits = LoginLimits.connect(settings, app.state.clock)
    app.state.update(
        engine=engine, sessionmaker=create_sessionmaker(engine, keyring), redis=redis, login_limits=login_limits
    )
    try:
        yield
    finally:
        await login_limits.close()
        await redis.aclose()
        await engine.dispose()


def _initial_state(settings: Settings, clock: Clock) -> State:
    return State({"settings": settings, "clock": clock})


def _openapi() -> OpenAPIConfig:
    return OpenAPIConfig(
        title="MLA tracker",
        version="1.0.0",
        description="Cross-border mutual legal assistance and e-evidence requests: filing, workflow, "
        "deadlines, legality checks and a tamper-evident audit trail.",
        path="/schema",
        render_plugins=api_docs_plugins(),
        components=Components(
            security_schemes={
                "bearer": SecurityScheme(type="http", scheme="bearer", bearer_format="JWT or mla_ API token")
            }
        ),
        security=[{"bearer": []}],
        use_handler_docstrings=True,  # first paragraph: the summary (see mla.openapi_problems)
    )

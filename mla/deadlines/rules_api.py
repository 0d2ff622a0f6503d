from litestar import Controller, get, patch
from sqlalchemy.ext.asyncio import AsyncSession

from mla.clock import Clock
from mla.deadlines import rules_admin
from mla.deadlines.schemas import DeadlineRuleOut, DeadlineRulePatch
from mla.enums import Role
from mla.guards import OPEN_TO_PLATFORM_ADMINS, requires
from mla.pagination import Page
from mla.users.principal import Principal


class DeadlineRuleController(Controller):
    path = "/api/v1/deadline-rules"
    tags = ["deadlines"]
    opt = OPEN_TO_PLATFORM_ADMINS

    @get("/")
    async def list_rules(self, session: AsyncSession) -> Page[DeadlineRuleOut]:
        """The deadline rules, each with its legal source

        Any signed-in user. Every rule: what starts and closes it, its length per urgency, how it counts
        (`legal` or `elapsed`) and whose calendar; `source_verified: false` where its source could not be
        verified.
        """
        return Page(items=await rules_admin.list_rules(session), next_cursor=None)

    @get("/{code:str}")
    async def get_rule(self, session: AsyncSession, code: str) -> DeadlineRuleOut:
        """One deadline rule

        Any signed-in user.
        """
        return rules_admin.to_out(await rules_admin.get_rule(session, code))


class AdminDeadlineRuleController(Controller):
    path = "/api/v1/admin/deadline-rules"
    tags = ["admin"]
    guards = [requires(Role.PLATFORM_ADMIN)]
    opt = OPEN_TO_PLATFORM_ADMINS

    @patch(
        "/{code:str}",
    )
    async def update_rule(
        self, code: str, data: DeadlineRulePatch, session: AsyncSession, clock: Clock, principal: Principal
    ) -> DeadlineRuleOut:
        """Edit a deadline rule; its open deadlines are recomputed (audited)

        Platform administrators only. Every open deadline using the rule is recomputed in the same transaction,
        each change audited. Answers the rule.
        """
        return rules_admin.to_out(await rules_admin.update_rule(session, clock, principal, code, data))

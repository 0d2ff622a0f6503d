"""incoming preservation expiry counts as a legal period (issue 10 §1)

Revision ID: 3e8b1f6c2a57
Revises: 7c3e5a9d1f42
Create Date: 2026-12-01 11:00:00.000000

The preservation we keep for a requesting state (Budapest art 29(7): not less than 60 days) is a
period from a legal text, not our own service level: it counts `legal` like the outgoing
preservation expiries. Existing installations seeded it `elapsed`; open deadlines keep their due
moments (an admin edit of the rule would recompute them).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "3e8b1f6c2a57"
down_revision: str | Sequence[str] | None = "7c3e5a9d1f42"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RULE = "incoming-preservation-expiry"


def upgrade() -> None:
    op.execute(f"UPDATE deadline_rules SET counting = 'legal' WHERE code = '{RULE}' AND counting = 'elapsed'")


def downgrade() -> None:
    op.execute(f"UPDATE deadline_rules SET counting = 'elapsed' WHERE code = '{RULE}' AND counting = 'legal'")

from sqlalchemy import BigInteger, Boolean, CheckConstraint, Column, Sequence, Table, true

from mla.db import Base

# Never reused, even by a rolled-back edit, so a cache can never mistake other data for what it holds.
version_sequence = Sequence("reference_data_version_seq", metadata=Base.metadata)

# One row: the version of the reference data (instruments, deadline rules, organisations), bumped by
# a statement trigger on each of those tables in the editing transaction (migration 9d2f4b6a8c13).
reference_data_version = Table(
    "reference_data_version",
    Base.metadata,
    Column("singleton", Boolean, CheckConstraint("singleton", name="one_row"), primary_key=True, server_default=true()),
    Column("version", BigInteger, nullable=False),
)

"""What a database error means for the caller: come back later, run it again, or a bug.

asyncpg's errors reach SQLAlchemy as the generic ``DBAPIError`` (only a few become
``OperationalError``), so the SQLSTATE decides: a deadlock is not a bad request, and a
server that is restarting is not our fault.
"""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

# Connection exception, operator intervention (shutting down, starting up), resources.
UNAVAILABLE_SQLSTATE_CLASSES = {"08", "57", "53"}
# Transaction rollback: a deadlock (40P01) or a serialization failure (40001).
RERUN_SQLSTATE_CLASS = "40"


def sqlstate(exc: BaseException) -> str:
    """The SQLSTATE of a database error, or an empty string."""
    orig = getattr(exc, "orig", None)
    return str(getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None) or "")


def is_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` says the database cannot be reached now, rather than refusing a value.

    Connection failures, a server shutting down or starting up, out of resources, no
    pooled connection free in time, and connections the pool found dead.
    """
    if isinstance(exc, OperationalError | InterfaceError | PoolTimeout):
        return True
    if not isinstance(exc, DBAPIError):
        return False
    return exc.connection_invalidated or sqlstate(exc)[:2] in UNAVAILABLE_SQLSTATE_CLASSES


def is_lost_race(exc: BaseException) -> bool:
    """A unique index that a concurrent transaction won (a rerun finds its row), or a
    deadlock or serialization failure that PostgreSQL settled by aborting this one."""
    if isinstance(exc, IntegrityError):
        return True
    return isinstance(exc, DBAPIError) and sqlstate(exc)[:2] == RERUN_SQLSTATE_CLASS


def is_worth_rerunning(exc: BaseException) -> bool:
    """Whether the same transaction, run again from scratch, may well succeed: a lost
    race, or a database busy (SQLite's lock) or briefly away."""
    return is_lost_race(exc) or isinstance(exc, OperationalError)

"""The one way a service function commits its writes.

    with transaction.atomic(session):
        ...change objects...

commits at the end of the block, or rolls back and re-raises when anything in it fails. A
concurrent change of a versioned row (SQLAlchemy's StaleDataError) comes out as `Stale`.

Work outside the database that goes with the rows — files written for them before the block —
is undone by `on_rollback` when the transaction does not commit, so a failed write leaves neither
rows nor files behind:

    with atomic(session, on_rollback=lambda: uploads.discard(upload_dir, stored)):
        ...
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, Iterator

from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from services.core.errors import Stale


@contextmanager
def atomic(session: Session, *, on_rollback: Callable[[], None] | None = None,
           stale: str | None = None) -> Iterator[Session]:
    """Commit what the block did, or roll it all back (then run `on_rollback`) and re-raise."""
    try:
        yield session
        session.commit()
    except StaleDataError:
        session.rollback()
        if on_rollback is not None:
            on_rollback()
        raise Stale(stale) from None
    except BaseException:
        session.rollback()
        if on_rollback is not None:
            on_rollback()
        raise

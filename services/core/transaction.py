"""The one way a service function commits its writes.

    with transaction.atomic(session):
        ...change objects...

commits at the end of the block, or rolls back and re-raises when anything in it fails. A
concurrent change of a versioned row (SQLAlchemy's StaleDataError) comes out as `Stale`.

Files that go with the rows (uploads) are written before the block and handed to it with
`files=(upload_dir, stored)`: they are removed again when the transaction does not commit, so a
failed write leaves neither rows nor files behind.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator, Sequence

from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from services.core.errors import Stale


@contextmanager
def atomic(session: Session, *, files: tuple[str, Sequence] | None = None,
           stale: str | None = None) -> Iterator[Session]:
    """Commit what the block did, or roll it all back (and remove `files`) and re-raise."""
    try:
        yield session
        session.commit()
    except StaleDataError:
        session.rollback()
        _discard(files)
        raise Stale(stale) from None
    except BaseException:
        session.rollback()
        _discard(files)
        raise


def _discard(files: tuple[str, Sequence] | None) -> None:
    if files:
        from services.requests import uploads

        upload_dir, stored = files
        uploads.discard(upload_dir, list(stored))

"""Whoosh plumbing shared by the catalog index and the ticket index.

A :class:`Store` is one named Whoosh index (``indexname``, the prefix of its
files) in a directory, with what both indexes do the same way around it:

* **generations** -- :meth:`Store.generation` is the highest TOC generation on
  disk (a directory listing, cheap enough to check before every search);
* **the meta file** -- a JSON file beside the index naming the
  ``SCHEMA_VERSION`` that wrote it (:meth:`Store.meta_ok`,
  :meth:`Store.write_meta`): an index of another version is stale;
* **locks** -- :attr:`Store.state` is the per directory (and index name) state
  shared by every instance of this process: the writers' thread lock, the
  rebuilds' thread lock and the journals of running rebuilds.  Whoosh's file
  locks (``flock``, released by the kernel with a killed process) exclude
  other processes; :meth:`Store.lock` takes one with a timeout, after an
  optional thread lock (a ``flock`` does not exclude another thread of the
  same process that opened the lock file separately);
* **rebuilds** -- :meth:`Store.building` creates a complete index in a
  temporary ``.build-*`` sub-directory (removed afterwards, whatever
  happens) and :meth:`Store.install` moves it in with one atomic TOC write,
  so readers see the old or the new index, never a partial one;
* **commits** -- :func:`commit` frees the writer's searcher at once.

The formats on disk (file names, TOC, meta file) are Whoosh's and the
indexes' own: nothing here is recorded in an index.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

from whoosh import index as windex
from whoosh.codec.whoosh3 import W3Codec
from whoosh.fields import Schema
from whoosh.filedb.filestore import FileStorage
from whoosh.index import TOC, LockError
from whoosh.util.filelock import try_for

__all__ = [
    "BUILD_PREFIX",
    "DirState",
    "FileLock",
    "LOCK_RETRY_DELAY",
    "POSTINGS_BLOCK",
    "Store",
    "codec",
    "commit",
    "dir_state",
    "latest_generation",
]

log = logging.getLogger(__name__)

#: Seconds between two attempts at a file lock.
LOCK_RETRY_DELAY = 0.05
#: Postings per block in new segments.  Whoosh's default (128) suits its
#: block-skipping matchers; both indexes read whole posting lists, where the
#: per-block cost (seek, decompress, unpickle) dominates, so blocks are larger.
POSTINGS_BLOCK = 1024
#: Name prefix of the temporary directories of rebuilds.
BUILD_PREFIX = ".build-"


def codec(*, length_stats: bool = True) -> W3Codec:
    """The codec of new segments; without *length_stats* (an index that
    scores nothing) the per-posting field-length lookups are skipped (they
    stat a file for every posting when a field has no lengths)."""
    result = W3Codec(blocklimit=POSTINGS_BLOCK)
    if not length_stats:
        result.length_stats = False
    return result


def commit(writer: Any, **kwargs: Any) -> None:
    """Commit a Whoosh writer and free its searcher's files at once.

    SegmentWriter caches a Searcher whose ``_orig_close`` attribute is its
    own bound method: a reference cycle that keeps the old segments' memory
    maps (and file descriptors) alive until the next full GC.  Breaking the
    cycle after the commit releases them immediately."""
    searcher = getattr(writer, "_searcher", None)
    writer.commit(**kwargs)
    if searcher is not None:
        try:
            searcher.__dict__.clear()
        except Exception:  # pragma: no cover - best effort
            pass


@lru_cache(maxsize=None)
def _toc_re(indexname: str) -> re.Pattern[str]:
    return re.compile(r"^_%s_([0-9]+)\.toc$" % re.escape(indexname))


def latest_generation(folder: Path, indexname: str) -> int:
    """Highest TOC generation of *indexname* in *folder*, -1 when there is no index."""
    try:
        names = os.listdir(folder)
    except OSError:
        return -1
    pattern = _toc_re(indexname)
    gen = -1
    for name in names:
        m = pattern.match(name)
        if m:
            gen = max(gen, int(m.group(1)))
    return gen


class DirState:
    """Per index directory, index name and process: the writers' lock, the
    rebuilds' lock and the journals of the rebuilds in progress (each a list
    of ``(operation, payload)`` the rebuild replays before its swap)."""

    def __init__(self) -> None:
        self.write_lock = threading.RLock()
        self.rebuild_lock = threading.Lock()
        self.journals: list[list[tuple[str, Any]]] = []


_DIR_STATES: dict[tuple[str, str], DirState] = {}
_DIR_STATES_GUARD = threading.Lock()


def dir_state(path: Path, indexname: str) -> DirState:
    """The state of *indexname* in *path*, shared by every instance of this
    process (two instances on one directory must not race either)."""
    key = (os.path.realpath(path), indexname)
    with _DIR_STATES_GUARD:
        return _DIR_STATES.setdefault(key, DirState())


class FileLock:
    """Context manager: an optional thread lock, then Whoosh's file lock
    ``{indexname}_{name}`` with a timeout (LockError when it runs out).

    The index directory is created first: it may have been removed under a
    running instance (rm -rf index/) or never exist yet."""

    def __init__(self, store: Store, name: str, timeout: float, thread_lock: Any = None) -> None:
        self.store, self.name, self.timeout, self.thread_lock = store, name, timeout, thread_lock
        self.lock: Any = None

    def __enter__(self) -> None:
        if self.thread_lock is not None:
            self.thread_lock.acquire()
        try:
            self.store.index_dir.mkdir(parents=True, exist_ok=True)
            self.lock = self.store.storage.lock(f"{self.store.indexname}_{self.name}")
            if not try_for(self.lock.acquire, timeout=self.timeout, delay=LOCK_RETRY_DELAY):
                raise LockError(f"could not lock the {self.store.label} ({self.name})")
        except BaseException:
            if self.thread_lock is not None:
                self.thread_lock.release()
            raise

    def __exit__(self, *exc: object) -> None:
        try:
            self.lock.release()
        finally:
            if self.thread_lock is not None:
                self.thread_lock.release()


class Store:
    """One Whoosh index in a directory (see the module docstring).

    :param index_dir: the directory (not created here).
    :param indexname: Whoosh's name of the index, the prefix of its files.
    :param meta_file: name of the meta file in the directory.
    :param schema_version: the version written to and expected in it.
    :param label: what the index is called in error messages.
    """

    def __init__(
        self,
        index_dir: str | os.PathLike[str],
        *,
        indexname: str,
        meta_file: str,
        schema_version: str,
        label: str,
    ) -> None:
        self.index_dir = Path(index_dir)
        self.indexname = indexname
        self.meta_file = meta_file
        self.schema_version = schema_version
        self.label = label
        self.storage = FileStorage(str(self.index_dir))
        self.state = dir_state(self.index_dir, indexname)

    def generation(self) -> int:
        """The newest generation on disk, -1 when there is no index."""
        return latest_generation(self.index_dir, self.indexname)

    def open(self) -> windex.FileIndex:
        """The index as it is now on disk (Whoosh's errors when it is not)."""
        return windex.FileIndex(self.storage, indexname=self.indexname)

    def create(self, schema: Schema) -> None:
        """Create an empty index (of this version) in the directory."""
        windex.create_in(str(self.index_dir), schema, indexname=self.indexname)
        self.write_meta()

    # -- the meta file ------------------------------------------------------

    def meta_ok(self) -> bool:
        """True when the meta file names this version."""
        try:
            meta = json.loads((self.index_dir / self.meta_file).read_text("utf-8"))
            return meta.get("schema_version") == self.schema_version
        except (OSError, ValueError, AttributeError):
            return False

    def write_meta(self) -> None:
        """Write the meta file (atomically: a temporary file renamed)."""
        meta = {"schema_version": self.schema_version, "updated": time.strftime("%Y-%m-%dT%H:%M:%S")}
        tmp = self.index_dir / f".{self.meta_file}.{uuid.uuid4().hex}"
        tmp.write_text(json.dumps(meta), "utf-8")
        os.replace(tmp, self.index_dir / self.meta_file)

    # -- locks --------------------------------------------------------------

    def lock(self, name: str, timeout: float, thread_lock: Any = None) -> FileLock:
        """Whoosh's file lock *name* ("WRITELOCK": the one Whoosh's writers
        take; "REBUILDLOCK"), after *thread_lock* if given."""
        return FileLock(self, name, timeout, thread_lock)

    # -- rebuilds -----------------------------------------------------------

    @contextmanager
    def building(self, schema: Schema) -> Iterator[windex.FileIndex]:
        """A new, empty index in a temporary sub-directory, to fill and then
        :meth:`install`; the directory is removed on leaving, whatever happens."""
        build = self.index_dir / f"{BUILD_PREFIX}{uuid.uuid4().hex}"
        try:
            build.mkdir()
            yield windex.create_in(str(build), schema, indexname=self.indexname)
        finally:
            shutil.rmtree(build, ignore_errors=True)

    def install(self, built: windex.FileIndex) -> None:
        """Move the index *built* by :meth:`building` into place (the caller
        holds the WRITELOCK).

        The segment files move first (new names: nothing refers to them yet);
        the TOC write (a temporary file renamed) is the atomic switch.  The
        meta file follows it: killed in between, the new index is left with
        the old meta file -- stale if the version changed, so it is rebuilt
        again -- never an old index with a new version's meta file."""
        folder = Path(built.storage.folder)
        toc = TOC.read(FileStorage(str(folder)), self.indexname)
        for name in os.listdir(folder):
            if name.endswith(".toc") or "LOCK" in name or (folder / name).is_dir():
                continue
            os.replace(folder / name, self.index_dir / name)
        toc.generation = max(self.generation(), toc.generation) + 1
        toc.write(self.storage, self.indexname)
        self.write_meta()
        windex.clean_files(self.storage, self.indexname, toc.generation, toc.segments)

    def remove_abandoned_builds(self) -> None:
        """Remove the temporary directories of rebuilds that never finished
        (a killed process); the caller holds the rebuild locks, so none is in use."""
        try:
            names = os.listdir(self.index_dir)
        except OSError:
            return
        for name in names:
            if name.startswith(BUILD_PREFIX):
                log.info("removing the abandoned %s build %s", self.label, name)
                shutil.rmtree(self.index_dir / name, ignore_errors=True)

"""Keeping the index in step: upsert, delete, rebuild, unavailable indexes, concurrency."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pytest

from search_index import TicketIndex, TicketIndexUnavailable

from .fixtures import AGRI, AMR, STI, ticket, tickets

# -- upsert / delete ----------------------------------------------------------


def test_upsert_replaces_by_number(index: TicketIndex) -> None:
    doc = ticket("LX20261129000001-1")
    doc["text"] = "客户改为申请加油机检定"
    index.upsert([doc])
    assert index.search("加油机", bureau_ids=None) == ["LX20261129000001-1"]
    assert index.search("电子汽车衡", bureau_ids=None) == []
    assert index.doc_count() == 5


def test_upsert_adds_new_tickets(index: TicketIndex) -> None:
    doc = dict(ticket("LX20261129000001-1"), number="LX20261203000005-1", request_number="LX20261203000005",
               text="新办件：压力表校准")
    index.upsert([doc])
    assert index.search("压力表", bureau_ids=[AMR]) == ["LX20261203000005-1"]
    assert index.search("LX20261203000005-1", bureau_ids=None) == ["LX20261203000005-1"]
    assert index.doc_count() == 6


def test_status_change_is_an_update_not_a_copy(index: TicketIndex) -> None:
    doc = ticket("LX20261201000003-1")
    doc["status"] = "completed"
    doc["text"] += "\n已办结，请下载辅导意见。"
    index.upsert([doc])
    assert index.search("LX20261201000003-1", bureau_ids=None) == ["LX20261201000003-1"]
    assert index.search("辅导意见", bureau_ids=[STI]) == ["LX20261201000003-1"]
    assert index.doc_count() == 5


def test_transfer_moves_the_ticket_out_of_the_old_bureau(index: TicketIndex) -> None:
    doc = ticket("LX20261129000001-1")
    assert index.search("LX20261129000001-1", bureau_ids=[AMR]) == ["LX20261129000001-1"]
    doc.update(status="transferred", bureau_ids=[AGRI])
    index.upsert([doc])
    for q in ("LX20261129000001-1", "电子汽车衡", "兰江", "91430723MA4L0LJ12X"):
        assert "LX20261129000001-1" not in index.search(q, bureau_ids=[AMR]), q
        assert "LX20261129000001-1" in index.search(q, bureau_ids=[AGRI]), q


def test_co_handler_added_and_removed(index: TicketIndex) -> None:
    doc = ticket("LX20261201000003-1")
    doc["bureau_ids"] = [STI, AMR]
    index.upsert([doc])
    assert index.search("发明专利", bureau_ids=[AMR]) == ["LX20261201000003-1"]
    doc["bureau_ids"] = [STI]
    index.upsert([doc])
    assert index.search("发明专利", bureau_ids=[AMR]) == []


def test_last_document_of_a_number_wins_within_one_upsert(index: TicketIndex) -> None:
    first = dict(ticket("LX20261130000002-1"), text="第一版")
    second = dict(ticket("LX20261130000002-1"), text="第二版")
    index.upsert([first, second])
    assert index.search("第二版", bureau_ids=None) == ["LX20261130000002-1"]
    assert index.search("第一版", bureau_ids=None) == []
    assert index.doc_count() == 5


def test_invalid_documents_write_nothing(index: TicketIndex) -> None:
    good = dict(ticket("LX20261130000002-1"), text="不应写入")
    with pytest.raises(ValueError):
        index.upsert([good, {"number": "", "bureau_ids": [1]}])
    with pytest.raises(ValueError):
        index.upsert([good, {"number": "LX1-1", "bureau_ids": ["amr"]}])
    assert index.search("不应写入", bureau_ids=None) == []


def test_empty_upsert_and_delete_are_no_ops(index: TicketIndex) -> None:
    index.upsert([])
    index.delete([])
    assert index.doc_count() == 5


def test_delete(index: TicketIndex) -> None:
    index.delete(["LX20261129000001-2", "LX-UNKNOWN"])
    assert index.search("菜籽油", bureau_ids=None) == []
    assert index.search("LX20261129000001-2", bureau_ids=None) == []
    assert index.search("LX20261129000001", bureau_ids=None) == ["LX20261129000001-1"]
    assert index.doc_count() == 4


def test_numbers_are_matched_in_their_normalised_form(index: TicketIndex) -> None:
    index.delete(["lx20261129000001-2 "])  # other case, stray space
    assert index.search("菜籽油", bureau_ids=None) == []
    index.upsert([dict(ticket("LX20261130000002-1"), number="ＬＸ20261130000002-1", text="全角编号更新")])
    assert index.doc_count() == 4  # replaced, not added
    assert index.search("全角编号更新", bureau_ids=None) == ["ＬＸ20261130000002-1"]  # returned as given


def test_delete_then_upsert_again(index: TicketIndex) -> None:
    index.delete(["LX20261129000001-2"])
    index.upsert([ticket("LX20261129000001-2")])
    assert index.search("菜籽油", bureau_ids=None) == ["LX20261129000001-2"]


# -- rebuild --------------------------------------------------------------------


def test_rebuild_replaces_contents(index: TicketIndex) -> None:
    new = dict(ticket("LX20261129000001-1"), number="LX20270101000100-1", request_number="LX20270101000100",
               text="全新的办件内容：水表检定")
    assert index.rebuild([new]) == 1
    assert index.doc_count() == 1
    assert index.search("水表", bureau_ids=None) == ["LX20270101000100-1"]
    assert index.search("菜籽油", bureau_ids=None) == []
    assert index.search("LX20261129000001-1", bureau_ids=None) == []
    assert index.rebuild([]) == 0
    assert index.doc_count() == 0
    assert index.search("水表", bureau_ids=None) == []


def test_rebuild_reports_progress(index_dir: Path) -> None:
    docs = [dict(ticket("LX20261129000001-1"), number=f"LX20261129{i:06d}-1") for i in range(2500)]
    calls: list[int] = []
    idx = TicketIndex(index_dir)
    assert idx.rebuild(iter(docs), total=len(docs), progress=calls.append) == 2500
    assert calls and calls[-1] == 2500
    assert calls == sorted(calls) and all(0 < n <= 2500 for n in calls)
    assert len(calls) > 50
    calls.clear()
    assert idx.rebuild(iter(docs), progress=calls.append) == 2500  # no total: every 1,000 documents
    assert calls[-1] == 2500 and calls == sorted(calls)


def test_rebuild_writes_several_segments_and_keeps_every_document(index_dir: Path, monkeypatch) -> None:
    from search_index import tickets as mod

    monkeypatch.setattr(mod, "SEGMENT_DOCS", 7)
    docs = [dict(ticket("LX20261129000001-1"), number=f"LX20261129{i:06d}-1", text=f"办件{i}号")
            for i in range(100)]
    idx = TicketIndex(index_dir)
    assert idx.rebuild(docs) == 100
    assert idx.doc_count() == 100
    assert idx.search("LX20261129000042-1", bureau_ids=None) == ["LX20261129000042-1"]
    # newest (last given) first, across segments
    assert idx.search("兰江", bureau_ids=None) == [d["number"] for d in reversed(docs)]
    assert idx.search("兰江", bureau_ids=None, limit=10) == [d["number"] for d in reversed(docs)][:10]
    assert not [p for p in os.listdir(index_dir) if p.startswith(".")]  # no temporary files left


def test_failed_rebuild_keeps_the_old_index(index: TicketIndex, index_dir: Path) -> None:
    def broken():
        yield ticket("LX20261129000001-1")
        yield {"number": "LX20261129000099-1", "bureau_ids": ["not-an-id"]}

    with pytest.raises(ValueError):
        index.rebuild(broken())
    assert index.doc_count() == 5
    assert index.search("菜籽油", bureau_ids=None) == ["LX20261129000001-2"]
    assert not [p for p in os.listdir(index_dir) if p.startswith(".")]

    def interrupted():
        yield ticket("LX20261129000001-1")
        raise RuntimeError("database went away")

    with pytest.raises(RuntimeError):
        index.rebuild(interrupted())
    assert index.doc_count() == 5


def test_changes_made_during_a_rebuild_are_kept(index: TicketIndex) -> None:
    """An upsert/delete while the rebuild reads its (older) input is replayed into the new index."""
    late = dict(ticket("LX20261129000001-1"), number="LX20261204000007-1", text="重建期间提交的办件")

    def docs():
        yield from tickets()[:3]
        index.upsert([late])  # committed while the rebuild is still reading
        index.delete(["LX20261130000002-1"])
        yield from tickets()[3:]

    assert index.rebuild(docs()) == 5
    assert index.search("重建期间提交", bureau_ids=None) == ["LX20261204000007-1"]
    assert index.search("LX20261130000002-1", bureau_ids=None) == []
    assert index.doc_count() == 5


def test_upsert_from_another_thread_during_a_rebuild(index: TicketIndex) -> None:
    late = dict(ticket("LX20261129000001-1"), number="LX20261204000008-1", text="另一线程的更新")
    started, written = threading.Event(), threading.Event()

    def writer() -> None:
        started.wait(5)
        index.upsert([late])  # must not wait for the whole rebuild
        written.set()

    def docs():
        yield from tickets()
        started.set()
        assert written.wait(5), "upsert blocked by the rebuild"

    t = threading.Thread(target=writer)
    t.start()
    index.rebuild(docs())
    t.join()
    assert index.search("另一线程", bureau_ids=None) == ["LX20261204000008-1"]


# -- missing, stale, damaged ---------------------------------------------------------


def test_missing_index_raises(tmp_path: Path) -> None:
    idx = TicketIndex(tmp_path / "nothing-here")
    with pytest.raises(TicketIndexUnavailable):
        idx.search("地磅", bureau_ids=None)
    with pytest.raises(TicketIndexUnavailable):
        idx.search("LX20261129000001-1", bureau_ids=[AMR])
    with pytest.raises(TicketIndexUnavailable):
        idx.doc_count()
    assert idx.search("", bureau_ids=None) == []  # nothing to look up
    assert idx.search("地磅", bureau_ids=[]) == []  # nothing may be shown anyway


def test_writes_to_a_missing_index_raise_and_leave_it_missing(tmp_path: Path) -> None:
    """A partial index would hide tickets; the caller learns that the change was not applied
    (so the search outbox keeps it) and its rebuild includes the change."""
    idx = TicketIndex(tmp_path / "missing")
    with pytest.raises(TicketIndexUnavailable):
        idx.upsert([ticket("LX20261129000001-1")])
    with pytest.raises(TicketIndexUnavailable):
        idx.delete(["LX20261129000001-1"])
    assert not idx.available()
    with pytest.raises(TicketIndexUnavailable):
        idx.search("地磅", bureau_ids=None)
    idx.rebuild(tickets())
    assert idx.search("地磅", bureau_ids=None) == ["LX20261129000001-1"]


def test_index_removed_under_a_running_instance(index: TicketIndex, index_dir: Path) -> None:
    assert index.search("地磅", bureau_ids=None)
    index.close()
    for name in os.listdir(index_dir):
        os.remove(index_dir / name)
    with pytest.raises(TicketIndexUnavailable):
        index.search("地磅", bureau_ids=None)
    index.rebuild(tickets())
    assert index.search("地磅", bureau_ids=None) == ["LX20261129000001-1"]


def test_corrupt_index_raises(index: TicketIndex, index_dir: Path) -> None:
    index.close()
    for name in os.listdir(index_dir):
        if not name.endswith(".json") and "LOCK" not in name:
            (index_dir / name).write_bytes(b"\x00garbage" * 10)
    fresh = TicketIndex(index_dir)
    with pytest.raises(TicketIndexUnavailable):
        fresh.search("地磅", bureau_ids=None)
    with pytest.raises(TicketIndexUnavailable):
        fresh.upsert([ticket("LX20261129000001-1")])  # not applied, and the caller is told so
    assert not fresh.available()
    fresh.rebuild(tickets())
    assert fresh.available()
    assert fresh.search("地磅", bureau_ids=None) == ["LX20261129000001-1"]


def test_truncated_segment_raises(index: TicketIndex, index_dir: Path) -> None:
    index.close()
    for name in os.listdir(index_dir):
        if name.endswith((".trm", ".pst", ".seg")):
            with open(index_dir / name, "r+b") as fh:
                fh.truncate(10)
    fresh = TicketIndex(index_dir)
    with pytest.raises(TicketIndexUnavailable):
        fresh.search("地磅", bureau_ids=None)


def test_index_of_another_version_is_unavailable(index: TicketIndex, index_dir: Path) -> None:
    (index_dir / "ticket_index.json").write_text(json.dumps({"schema_version": "0"}), "utf-8")
    with pytest.raises(TicketIndexUnavailable):
        TicketIndex(index_dir).search("地磅", bureau_ids=None)


# -- several instances, threads -------------------------------------------------------


def test_another_instance_sees_commits(index: TicketIndex, index_dir: Path) -> None:
    other = TicketIndex(index_dir)
    assert other.search("加油机", bureau_ids=None) == []
    index.upsert([dict(ticket("LX20261129000001-1"), text="加油机检定")])
    assert other.search("加油机", bureau_ids=None) == ["LX20261129000001-1"]
    other.delete(["LX20261129000001-1"])
    assert index.search("加油机", bureau_ids=None) == []
    index.rebuild(tickets()[:2])
    assert other.doc_count() == 2
    other.close()


def test_concurrent_writers_and_readers(index: TicketIndex, index_dir: Path) -> None:
    errors: list[BaseException] = []

    def write(k: int) -> None:
        try:
            idx = index if k % 2 else TicketIndex(index_dir)
            for i in range(8):
                doc = dict(ticket("LX20261129000001-1"), number=f"LX2026120{k}{i:07d}-1", text=f"并发写入{k}")
                idx.upsert([doc])
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    def read() -> None:
        try:
            for _ in range(30):
                index.search("兰江", bureau_ids=[AMR])
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(k,)) for k in range(4)]
    threads += [threading.Thread(target=read) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert index.doc_count() == 5 + 32
    for k in range(4):
        assert len(index.search(f"并发写入{k}", bureau_ids=None)) == 8


# -- recovering from what an older version or a killed process left ---------------------


def _write_index_with_other_field_format(index_dir: Path) -> None:
    """An index as an older version wrote it: `bureau` with frequencies instead of the Existence
    format, under the same SCHEMA_VERSION (nobody bumped it)."""
    from whoosh import fields
    from whoosh import index as windex

    from search_index.tickets import INDEXNAME, META_FILE, SCHEMA_VERSION, build_schema, doc_to_fields

    schema = build_schema()
    schema.remove("bureau")
    schema.add("bureau", fields.KEYWORD())
    index_dir.mkdir(parents=True)
    ix = windex.create_in(str(index_dir), schema, indexname=INDEXNAME)
    writer = ix.writer()
    for doc in tickets():
        writer.add_document(**doc_to_fields(doc))
    writer.commit()
    (index_dir / META_FILE).write_text(json.dumps({"schema_version": SCHEMA_VERSION}), "utf-8")


def test_a_field_format_change_without_a_version_bump_is_stale_not_a_crash(tmp_path: Path) -> None:
    """Once `search sync --follow` died on every start with "field 'bureau' does not have the
    Existence format": such an index is now reported unavailable, and a rebuild replaces it."""
    index_dir = tmp_path / "old-format"
    _write_index_with_other_field_format(index_dir)
    idx = TicketIndex(index_dir)
    assert not idx.available()
    assert "schema" in idx.unavailable_reason()
    with pytest.raises(TicketIndexUnavailable):
        idx.search("地磅", bureau_ids=None)
    with pytest.raises(TicketIndexUnavailable):  # not ValueError
        idx.upsert([ticket("LX20261129000001-1")])
    with pytest.raises(TicketIndexUnavailable):
        idx.delete(["LX20261129000001-1"])
    assert idx.rebuild(tickets()) == 5
    assert idx.available() and idx.unavailable_reason() is None
    idx.upsert([dict(ticket("LX20261129000001-1"), text="加油机检定")])
    assert idx.search("加油机", bureau_ids=[AMR]) == ["LX20261129000001-1"]
    idx.close()


def test_writes_to_an_index_of_another_version_raise(index: TicketIndex, index_dir: Path) -> None:
    (index_dir / "ticket_index.json").write_text(json.dumps({"schema_version": "0"}), "utf-8")
    with pytest.raises(TicketIndexUnavailable):
        index.upsert([ticket("LX20261129000001-1")])
    assert not index.available()


def test_rebuild_if_unavailable_skips_a_usable_index(index: TicketIndex, index_dir: Path) -> None:
    read = []

    def docs():
        read.append(True)
        yield from tickets()[:1]

    assert index.rebuild(docs(), if_unavailable=True) is None
    assert read == [] and index.doc_count() == 5
    index.close()
    for name in os.listdir(index_dir):
        os.remove(index_dir / name)
    assert index.rebuild(docs(), if_unavailable=True) == 1
    assert index.doc_count() == 1


def test_a_rebuild_removes_what_a_killed_rebuild_left(index: TicketIndex, index_dir: Path) -> None:
    abandoned = index_dir / ".build-0123456789abcdef"
    abandoned.mkdir()
    (abandoned / "_TICKETS_1.toc").write_bytes(b"half written")
    assert index.search("地磅", bureau_ids=None)  # a leftover build directory harms nobody
    index.rebuild(tickets())
    assert not abandoned.exists()
    assert index.doc_count() == 5


def test_a_rebuild_that_dies_before_its_switch_leaves_a_stale_index_stale(index: TicketIndex, index_dir: Path,
                                                                         monkeypatch) -> None:
    """The new meta file is written after the TOC switch, never before: an old index must not
    pass for the new version when the rebuild replacing it dies in between."""
    from whoosh.index import TOC

    (index_dir / "ticket_index.json").write_text(json.dumps({"schema_version": "0"}), "utf-8")
    original = TOC.write

    def write(toc, storage, indexname):
        if Path(storage.folder) == index_dir:  # the switch, not a commit inside the build
            raise OSError("killed before the switch")
        return original(toc, storage, indexname)

    monkeypatch.setattr(TOC, "write", write)
    with pytest.raises(OSError):
        index.rebuild(tickets()[:2])
    assert not index.available() and "another version" in index.unavailable_reason()
    monkeypatch.undo()
    assert index.rebuild(tickets()[:2]) == 2
    assert index.available() and index.doc_count() == 2
    assert not [p for p in index_dir.iterdir() if p.name.startswith(".build-")]

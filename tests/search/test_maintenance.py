"""Keeping the index in step: upsert, delete, rebuild, recovery, sharing."""

from __future__ import annotations

import copy
import os
import threading
from pathlib import Path

import pytest

from search_index import CatalogIndex, IndexUnavailable

from .fixtures import SERVICES, by_code, codes

N = len(SERVICES)


def _segment_files(path: Path) -> list[Path]:
    return [p for p in path.iterdir() if p.is_file() and p.name.startswith("MAIN_")]


def test_rebuild_returns_count_and_reports_progress(tmp_path: Path) -> None:
    seen: list[int] = []
    idx = CatalogIndex(tmp_path / "ix")
    assert idx.rebuild(iter(copy.deepcopy(SERVICES)), total=N, progress=seen.append) == N
    assert seen and seen[-1] == N
    assert seen == sorted(seen)  # absolute positions, increasing
    assert idx.doc_count() == N


def test_rebuild_replaces_everything(index: CatalogIndex) -> None:
    index.rebuild([by_code("JL-001"), by_code("IP-001")])
    assert index.doc_count() == 2
    assert set(codes(index.search(""))) == {"JL-001", "IP-001"}
    assert index.search("专利").total == 0


def test_rebuild_with_duplicate_codes_keeps_the_last(tmp_path: Path) -> None:
    a = dict(by_code("JL-001"))
    b = dict(a, name="新的名字检定")
    idx = CatalogIndex(tmp_path / "ix")
    assert idx.rebuild([a, b]) == 1
    assert idx.doc_count() == 1
    assert idx.search("新的名字").hits[0].code == "JL-001"
    assert idx.search("汽车衡（地磅）检定", highlight=False).hits[0].name_html == "新的名字检定"


def test_upsert_changes_results_at_once(index: CatalogIndex) -> None:
    assert index.search("冷链物流").total == 0
    doc = copy.deepcopy(by_code("JY-002"))
    doc.update(name="冷链物流食品检验", keywords=["冷链"], category="testing", online=False)
    index.upsert([doc])
    result = index.search("冷链物流")
    assert codes(result)[0] == "JY-002"
    assert index.doc_count() == N  # replaced, not added
    # the old name is gone from the index: nothing is named like it any more
    assert all(h.name_html != "<mark>化妆品检验检测委托</mark>" for h in index.search("化妆品检验检测委托").hits)
    assert index.search("", online=False, category="testing").total == 1


def test_upsert_adds_new_documents(index: CatalogIndex) -> None:
    new = {"code": "NEW-1", "name": "电梯维保质量评价", "category": "quality", "bureau": "amr",
           "summary": "电梯维护保养质量评价。", "keywords": ["电梯"], "online": True}
    index.upsert([new])
    assert index.doc_count() == N + 1
    assert codes(index.search("电梯"))[0] == "NEW-1"
    assert codes(index.search("dianti"))[0] == "NEW-1"
    assert index.search("").facets["category"]["quality"] == 4


def test_delete_removes(index: CatalogIndex) -> None:
    index.delete(["JL-001", "NO-SUCH-CODE"])
    assert index.doc_count() == N - 1
    assert "JL-001" not in codes(index.search("地磅"))
    assert "JL-001" not in codes(index.search("", per_page=100))
    assert index.search("").facets["category"]["metrology"] == 3
    index.delete([])  # nothing to do


def test_second_instance_sees_upserts_and_deletes(index: CatalogIndex) -> None:
    other = CatalogIndex(index.index_dir)  # as if in another process
    assert other.search("冷链").total == 0
    doc = dict(by_code("JY-002"), name="冷链食品检验")
    index.upsert([doc])
    assert codes(other.search("冷链"))[0] == "JY-002"
    other.delete(["JY-002"])
    assert index.search("冷链").total == 0


def test_missing_index_rebuilds_from_provider(tmp_path: Path, provider) -> None:
    idx = CatalogIndex(tmp_path / "does" / "not" / "exist", docs_provider=provider)
    assert (tmp_path / "does" / "not" / "exist").is_dir()
    assert codes(idx.search("地磅"))[0] == "JL-001"
    assert provider.calls == 1
    idx.search("商标")
    assert provider.calls == 1  # built once, then kept


def test_missing_index_without_provider_is_unavailable(tmp_path: Path) -> None:
    idx = CatalogIndex(tmp_path / "ix")
    with pytest.raises(IndexUnavailable):
        idx.search("地磅")
    with pytest.raises(IndexUnavailable):
        idx.doc_count()


def test_upsert_into_a_missing_index_without_provider_creates_it(tmp_path: Path) -> None:
    idx = CatalogIndex(tmp_path / "ix")
    idx.upsert([by_code("JL-001")])
    assert idx.doc_count() == 1
    assert codes(idx.search("地磅")) == ["JL-001"]


def test_empty_index_is_filled_from_provider(tmp_path: Path, provider) -> None:
    path = tmp_path / "ix"
    CatalogIndex(path).rebuild([])
    idx = CatalogIndex(path, docs_provider=provider)
    assert idx.doc_count() == N
    assert provider.calls == 1


def test_empty_provider_is_not_asked_again_and_again(tmp_path: Path) -> None:
    calls = []
    idx = CatalogIndex(tmp_path / "ix", docs_provider=lambda: calls.append(1) or [])
    for _ in range(3):
        result = idx.search("地磅")
        assert result.total == 0 and result.suggestions == []
    assert len(calls) <= 2


@pytest.mark.parametrize("damage", ["garbage", "truncate", "empty_toc", "delete_segments"])
def test_corrupt_index_rebuilds_from_provider(recovering_index: CatalogIndex, provider, damage: str) -> None:
    path = recovering_index.index_dir
    fresh = CatalogIndex(path, docs_provider=provider)
    _damage(path, damage)
    result = fresh.search("地磅")
    assert codes(result)[0] == "JL-001"
    assert fresh.doc_count() == N
    assert provider.calls == 1


@pytest.mark.parametrize("damage", ["garbage", "truncate", "empty_toc", "delete_segments"])
def test_corrupt_index_without_provider_is_unavailable(built_dir: Path, tmp_path: Path, damage: str) -> None:
    import shutil

    path = tmp_path / "ix"
    shutil.copytree(built_dir, path)
    _damage(path, damage)
    idx = CatalogIndex(path)
    with pytest.raises(IndexUnavailable):
        idx.search("地磅")


def test_damage_under_an_open_searcher_is_survived(recovering_index: CatalogIndex, provider) -> None:
    index = recovering_index
    assert index.search("地磅").total == 1  # snapshot open
    index.upsert([dict(by_code("JL-002"), name="电子秤检定")])  # new generation...
    _damage(index.index_dir, "garbage")  # ...which is then destroyed
    assert codes(index.search("地磅"))[0] == "JL-001"
    assert provider.calls == 1


def _damage(path: Path, how: str) -> None:
    segs = _segment_files(path)
    tocs = [p for p in path.iterdir() if p.name.endswith(".toc")]
    assert segs and tocs
    if how == "garbage":
        for p in segs:
            size = p.stat().st_size
            p.write_bytes(os.urandom(size))
    elif how == "truncate":
        for p in segs:
            with open(p, "r+b") as f:
                f.truncate(p.stat().st_size // 3)
    elif how == "empty_toc":
        for p in tocs:
            p.write_bytes(b"")
    elif how == "delete_segments":
        for p in segs:
            p.unlink()


def test_concurrent_writers_do_not_raise(index: CatalogIndex) -> None:
    errors: list[BaseException] = []
    other = CatalogIndex(index.index_dir)

    def work(idx: CatalogIndex, n: int) -> None:
        try:
            for i in range(4):
                idx.upsert([dict(by_code("JL-003"), code=f"T-{n}-{i}", name=f"并发写入{n}号{i}")])
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(idx, n)) for n, idx in enumerate([index, other, index])]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert index.doc_count() == N + 12
    assert other.search("并发写入").total == 12


def test_readers_never_see_an_empty_or_partial_index_during_rebuild(index: CatalogIndex) -> None:
    reader = CatalogIndex(index.index_dir)
    assert reader.search("").total == N
    stop = threading.Event()
    seen: list[int] = []
    errors: list[BaseException] = []

    def read() -> None:
        while not stop.is_set():
            try:
                seen.append(reader.search("").total)
            except BaseException as exc:  # pragma: no cover
                errors.append(exc)

    t = threading.Thread(target=read)
    t.start()
    try:
        for _ in range(3):
            index.rebuild(copy.deepcopy(SERVICES))
    finally:
        stop.set()
        t.join()
    assert errors == []
    assert seen and set(seen) == {N}


def test_threaded_searches_share_one_index(built_dir: Path, ro_index: CatalogIndex) -> None:
    queries = [s["name"] for s in SERVICES] + [k for s in SERVICES for k in s["keywords"]]
    queries += ["shangbiao", "dbjd", "我们厂的地磅需要年检", "", "不存在的服务"]
    expected = {q: codes(ro_index.search(q)) for q in set(queries)}
    shared = CatalogIndex(built_dir)  # cold caches: threads race to fill them
    results: list[tuple[str, list[str]]] = []

    def run(q: str) -> None:
        results.append((q, codes(shared.search(q))))

    threads = [threading.Thread(target=run, args=(q,)) for q in queries]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == len(queries)
    assert all(expected[q] == got for q, got in results)


def test_index_dir_removed_while_open_is_rebuilt(recovering_index: CatalogIndex, provider) -> None:
    index = recovering_index
    import shutil

    assert index.search("地磅").total == 1
    shutil.rmtree(index.index_dir)
    assert codes(index.search("地磅"))[0] == "JL-001"
    assert provider.calls == 1


def test_failing_provider_gives_index_unavailable(tmp_path: Path) -> None:
    def broken() -> list[dict]:
        raise RuntimeError("database is down")

    idx = CatalogIndex(tmp_path / "ix", docs_provider=broken)
    with pytest.raises(IndexUnavailable):
        idx.search("地磅")


def test_another_process_sees_changes(index: CatalogIndex) -> None:
    import subprocess
    import sys
    import textwrap

    assert index.search("冷链").total == 0
    script = textwrap.dedent(
        f"""
        from search_index import CatalogIndex
        CatalogIndex({str(index.index_dir)!r}).upsert([{{
            "code": "PROC-1", "name": "冷链食品检验", "category": "testing", "bureau": "amr",
            "summary": "", "keywords": [], "online": True}}])
        """
    )
    root = Path(__file__).resolve().parents[2]
    subprocess.run([sys.executable, "-c", script], check=True, cwd=root, timeout=120)
    assert codes(index.search("冷链")) == ["PROC-1"]


def test_deletes_with_a_stale_snapshot_use_whoosh_lookups(index: CatalogIndex) -> None:
    from whoosh.filedb.filestore import FileStorage
    from whoosh.index import FileIndex

    index.search("")  # the snapshot now shows generation g
    CatalogIndex(index.index_dir).upsert([dict(by_code("JL-003"), code="NEW-2", name="新增服务")])  # g + 1
    writer = FileIndex(FileStorage(str(index.index_dir)), indexname="MAIN").writer()
    index._delete_codes(writer, ["JL-001", "NEW-2"])  # doc numbers of g would be wrong
    writer.commit()
    assert index.doc_count() == N - 1
    remaining = codes(index.search("", per_page=100))
    assert "NEW-2" not in remaining and "JL-001" not in remaining and "JL-003" in remaining

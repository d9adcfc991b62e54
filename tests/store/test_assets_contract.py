"""The contract every :class:`pusher.store.assets.AssetStore` passes, whatever keeps the bytes:
the folder alone, and the folder as a cache in front of the database's ``blob`` table (SQLite
and PostgreSQL). A "node" is one process's view: on the folder the nodes share the folder (the
shared disk of old), with a shared store each node has a folder of its own."""

from __future__ import annotations

import hashlib
import inspect
import os
import shutil
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import func, text
from sqlmodel import select

import pusher.store.assets as assets_module
from pusher.store.assets import AssetStore, CachedAssets, FolderAssets
from pusher.store.blobs import CHUNK, BlobStore, DatabaseBlobs
from pusher.store.db import Store
from pusher.store.models import Blob

KINDS = ["folder", "sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@dataclass
class Backend:
    """Makes the asset stores of several nodes on one backing."""

    kind: str
    tmp: Path
    store: Store | None = None
    nodes: list[AssetStore] = field(default_factory=list)

    @property
    def blobs(self) -> BlobStore | None:
        return DatabaseBlobs(self.store) if self.store is not None else None

    def node(self, restore: Callable[[str, str], bool] | None = None) -> AssetStore:
        n = len(self.nodes)
        a: AssetStore
        if self.store is None:
            a = FolderAssets(self.tmp / "shared-disk" / "assets", restore)
        else:
            a = CachedAssets(self.tmp / f"node{n}" / "assets", DatabaseBlobs(self.store), restore)
        self.nodes.append(a)
        return a

    @property
    def shared(self) -> bool:
        return self.store is not None


@pytest.fixture(params=KINDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    if request.param == "folder":
        yield Backend("folder", tmp_path)
        return
    url = f"sqlite:///{tmp_path}/store.db" if request.param == "sqlite" else str(request.getfixturevalue("pg_url"))
    store = Store(url)
    store.migrate()
    yield Backend(request.param, tmp_path, store)
    store.dispose()


def png(n: int, size: int = 3000) -> bytes:
    """Distinct bytes per n (not a real PNG: the stores never look inside)."""
    return hashlib.sha256(str(n).encode()).digest() * (size // 32)


def test_put_read_has_path_round_trip(backend: Backend) -> None:
    a = backend.node()
    data = png(1)
    sha = a.put(data)
    assert sha == hashlib.sha256(data).hexdigest()
    assert a.has(sha) and a.read(sha) == data
    assert a.path(sha) == a.root / f"{sha}.png" and a.path(sha).read_bytes() == data
    assert a.name_of(sha, "ts") == f"assets/{sha}.ts"
    assert a.put(data) == sha  # idempotent
    assert not a.has(sha, "ts"), "an extension is part of the name"
    sha2 = a.put(b"<tv/>", "xml")
    assert a.read(sha2, "xml") == b"<tv/>"


def test_put_many_is_put_of_each(backend: Backend) -> None:
    a = backend.node()
    first = a.put(png(10))
    batch = [png(10), png(11), png(12), png(11)]  # one already stored, one twice in the batch
    shas = a.put_many(batch)
    assert shas == [hashlib.sha256(p).hexdigest() for p in batch] and shas[0] == first
    assert a.put_many([]) == []
    b = backend.node()
    assert [b.read(sha) for sha in shas] == batch
    if backend.store is not None:
        with backend.store.read() as db:
            assert db.exec(select(func.count()).select_from(Blob)).one() == 3


def test_another_node_reads_what_one_node_put(backend: Backend) -> None:
    a, b = backend.node(), backend.node()
    sha = a.put(png(2))
    assert b.has(sha)
    assert b.read(sha) == png(2)
    f = b.file(sha)
    assert f.is_file() and f.read_bytes() == png(2) and f.parent == b.root  # a local file to hand to others


def test_a_missing_asset_is_not_found_and_drawn_again_when_it_can_be(backend: Backend) -> None:
    missing = hashlib.sha256(b"never stored").hexdigest()
    plain = backend.node()
    assert not plain.has(missing)
    with pytest.raises(FileNotFoundError):
        plain.read(missing)
    with pytest.raises(FileNotFoundError):
        plain.file(missing)
    calls: list[tuple[str, str]] = []
    redrawn = png(3)

    def restore(sha: str, ext: str) -> bool:
        calls.append((sha, ext))
        if sha != hashlib.sha256(redrawn).hexdigest():
            return False
        drawer.put(redrawn, ext)
        return True

    drawer = backend.node(restore)
    with pytest.raises(FileNotFoundError, match="cannot be drawn again"):
        drawer.read(missing)
    assert drawer.lost == {f"assets/{missing}.png"}
    want = hashlib.sha256(redrawn).hexdigest()
    assert drawer.read(want) == redrawn and calls[-1] == (want, "png")
    if backend.shared:  # drawn again into the shared store too: the next node needs no drawing
        assert backend.node().read(want) == redrawn


def test_put_file_streams_a_large_file_in_chunks(backend: Backend, tmp_path: Path) -> None:
    a = backend.node()
    big = tmp_path / "loop.ts"
    with big.open("wb") as f:
        for n in range(3):
            f.write(png(n, CHUNK))
        f.write(b"tail")
    want = hashlib.sha256(big.read_bytes()).hexdigest()
    size = big.stat().st_size
    sha, got_size = a.put_file(big, "ts")
    assert (sha, got_size) == (want, size) and not big.exists()  # moved, not copied
    other = backend.node()
    assert other.has(sha, "ts")
    assert hashlib.sha256(other.file(sha, "ts").read_bytes()).hexdigest() == want
    if backend.store is not None:
        with backend.store.read() as db:
            rows = db.exec(select(func.count()).select_from(Blob).where(Blob.name == f"assets/{sha}.ts")).one()  # type: ignore[arg-type]
        assert rows == 4  # three full chunks and the tail: never one row (or one buffer) of the whole
        writes: list[int] = []
        assert backend.blobs is not None and backend.blobs.get_to(f"assets/{sha}.ts", lambda c: writes.append(len(c)))
        assert writes == [CHUNK, CHUNK, CHUNK, 4]


def test_put_file_of_content_already_stored_drops_the_file(backend: Backend, tmp_path: Path) -> None:
    a = backend.node()
    sha = a.put(png(4), "ts")
    again = tmp_path / "again.ts"
    again.write_bytes(png(4))
    assert a.put_file(again, "ts") == (sha, len(png(4))) and not again.exists()


def test_two_nodes_putting_the_same_pages_at_once_keep_one_copy(backend: Backend) -> None:
    a, b = backend.node(), backend.node()
    pages = [png(100 + n) for n in range(20)]
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def put_all(store: AssetStore) -> None:
        try:
            start.wait()
            for p in pages:
                store.put(p)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=put_all, args=(s,)) for s in (a, b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    fresh = backend.node()
    assert all(fresh.read(hashlib.sha256(p).hexdigest()) == p for p in pages)
    if backend.store is not None:
        with backend.store.read() as db:
            assert db.exec(select(func.count()).select_from(Blob)).one() == len(pages)


def test_the_local_cache_deleted_costs_nothing_with_a_shared_store(backend: Backend) -> None:
    a = backend.node()
    sha = a.put(png(5))
    shutil.rmtree(a.root)
    if not backend.shared:
        with pytest.raises(FileNotFoundError):  # the folder was the store: only drawing brings it back
            a.read(sha)
        return
    assert a.has(sha) and a.read(sha) == png(5) and a.path(sha).is_file()


def test_a_corrupt_shared_blob_is_never_cached_under_its_name(backend: Backend) -> None:
    if backend.store is None:
        pytest.skip("the folder keeps what was written; the outbox checks each file's hash before sending")
    sha = backend.node().put(png(6))
    with backend.store.write() as db:
        db.execute(text("UPDATE blob SET data = :d"), {"d": b"not the page"})
    b = backend.node()
    with pytest.raises(FileNotFoundError):
        b.read(sha)
    assert not b.path(sha).exists() and not [p for p in b.root.iterdir() if p.name.endswith(".tmp")]


def test_every_asset_store_in_the_module_runs_this_contract(tmp_path: Path) -> None:
    methods = ("name_of", "path", "file", "put", "put_file", "read", "has")
    impls = {
        obj
        for _, obj in inspect.getmembers(assets_module, inspect.isclass)
        if obj.__module__ == assets_module.__name__ and obj is not AssetStore and all(hasattr(obj, m) for m in methods)
    }
    assert impls == {FolderAssets, CachedAssets}, "a new kind needs a branch in Backend.node"
    store = Store(f"sqlite:///{tmp_path}/s.db")
    try:
        for made in (FolderAssets(tmp_path / "f"), CachedAssets(tmp_path / "c", DatabaseBlobs(store))):
            assert isinstance(made, AssetStore)  # every member the stages call, attributes included
    finally:
        store.dispose()


def test_blob_store_contract(backend: Backend, tmp_path: Path) -> None:
    blobs = backend.blobs
    if blobs is None:
        pytest.skip("the folder has no blob store behind it")
    assert isinstance(blobs, BlobStore)
    assert not blobs.has("images/x") and blobs.size("images/x") is None and blobs.get("images/x") is None
    assert blobs.get_to("images/x", lambda _c: pytest.fail("nothing to write")) is False
    blobs.put("images/x", b"picture")
    blobs.put("images/x", b"another")  # a name is written once: the first stands
    assert blobs.get("images/x") == b"picture" and blobs.size("images/x") == 7
    blobs.put("segments/empty", b"")
    assert blobs.has("segments/empty") and blobs.get("segments/empty") == b""
    f = tmp_path / "f.bin"
    f.write_bytes(os.urandom(CHUNK + 1))
    blobs.put_file("assets/f", f)
    assert blobs.get("assets/f") == f.read_bytes() and blobs.size("assets/f") == CHUNK + 1
    blobs.put("assets_x/odd", b"")  # LIKE's wildcards are escaped: '_' matches itself only
    assert sorted(blobs.names("assets/")) == ["assets/f"]  # one name per blob, not per chunk
    assert sorted(blobs.names("images/")) == ["images/x"]


def test_a_node_started_anew_learns_the_shared_names_in_one_listing(backend: Backend) -> None:
    if backend.store is None:
        pytest.skip("the folder has no blob store behind it")
    shas = [backend.node().put(png(200 + n)) for n in range(5)]
    b = backend.node()
    assert isinstance(b, CachedAssets)
    looked_up: list[str] = []
    real_size = b.blobs.size
    b.blobs.size = lambda name: looked_up.append(name) or real_size(name)  # type: ignore[method-assign]
    assert all(b.has(sha) for sha in shas) and looked_up == []
    late = backend.node().put(png(300))  # put after the listing: still found, by one look-up
    assert b.has(late) and looked_up == [f"assets/{late}.png"]

"""Everything a stage needs, built once from the settings: store, sources, renderer, targets, gate."""

from __future__ import annotations

import functools
import threading

from pusher.config.settings import Settings, SourceSettings
from pusher.interfaces import Gate, Renderer, Source, Target
from pusher.registry import RENDERERS, SOURCES, TARGETS
from pusher.store.assets import AssetStore, CachedAssets, FolderAssets
from pusher.store.blobs import BlobStore, DatabaseBlobs
from pusher.store.db import Store, guard_existing, record_existing
from pusher.store.images import ImageCache
from pusher.store.redraw import Drawing, Redrawer


class Runtime:
    def __init__(self, settings: Settings, store: Store | None = None, *, migrate: bool = True, init: bool = False) -> None:
        """``init``: start an empty store even where this workdir held one that is now missing
        (``pusher init``); otherwise that is an error, never a silent new channel."""
        self.settings = settings
        workdir = settings.channel.workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.store = store or Store(settings.channel.database_url)
        if migrate:
            guard_existing(self.store, workdir, init=init)
            self.store.migrate()
            record_existing(self.store, workdir)
        # What one node writes and another reads (pages, exports, video, pictures): in the
        # database when it is PostgreSQL, so nodes need not share a disk; the folder caches it.
        self.blobs: BlobStore | None = shared_blobs(settings, self.store)
        self.assets: AssetStore = (
            FolderAssets(settings.channel.assets_dir) if self.blobs is None else CachedAssets(settings.channel.assets_dir, self.blobs)
        )
        # A page lost from the cache is drawn again from the store when it is read.
        drawing = Drawing(settings.channel.name, {c.id: c.name for c in settings.columns}, settings.channel.timezone,
                          settings.render.max_pages)  # fmt: skip
        self.assets.restore = Redrawer(self.store, self.assets, lambda: self.renderer, drawing)
        self.images = ImageCache(settings.channel.workdir / "images", self.blobs)
        self.stopping = threading.Event()  # set by SIGTERM: stages finish the current item and return

    def source(self, name: str) -> Source:
        s = self.settings.source(name)
        return SOURCES.create(s.kind, s.options, s.spec())

    def http(self, s: SourceSettings):  # -> feeds.http.Http
        from feeds.http import Http

        return Http(self.settings.http, source=s.name, hosts=s.spec().allowed_hosts())

    @functools.cached_property
    def renderer(self) -> Renderer:
        # One kind today, so no setting names it; the profile and [render] are its arguments.
        make = RENDERERS.get("tv").factory
        return make(self.settings.channel.profile, self.settings.render, images=self.images.load)

    @functools.cached_property
    def gate(self) -> Gate:
        from pusher.gate import build_gate

        return build_gate(self.settings.gate)

    def target(self, name: str) -> Target:
        t = self.settings.target(name)
        return TARGETS.create(t.kind, t.options, t.name)

    def close(self) -> None:
        self.store.dispose()


def shared_blobs(settings: Settings, store: Store) -> BlobStore | None:
    """Where files every node reads are kept beside the local folder (``channel.assets``):
    ``auto`` is the database on PostgreSQL (nodes on separate machines) and nowhere else on
    SQLite (one node: the folder is the store)."""
    kind = settings.channel.assets
    if kind == "database" or (kind == "auto" and not store.is_sqlite):
        return DatabaseBlobs(store)
    return None

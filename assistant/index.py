"""Index stage: chunks -> Chroma (embedded ``PersistentClient`` or a ``chroma run`` server).

Build and swap, inside Chroma itself: every ingest that changes anything writes a new *generation*
collection (unchanged chunks reuse their stored embeddings, so only new text is embedded) and then flips
one pointer, the metadata of the ``<prefix>_meta`` collection. A killed ingest leaves the pointer on the
previous generation, which keeps answering; the next ingest removes the stray collection.

LangChain's indexing API (``index(..., record_manager, cleanup="full")``) gives idempotence but keeps its
record manager outside Chroma and updates the live collection in place, so a crash leaves it half
updated and several app processes cannot share it: hence this generation pointer.

Everything the app needs is in Chroma (document records ride on each document's first chunk, lexical
tokens on every chunk), so app processes are stateless: each reads the active generation once (chunks,
document records, embeddings) and rebuilds the BM25 index from it. A local copy (``Snapshots``, a cache) saves
reading it back through Chroma; an embedded store whose file is as a checked load left it is not even opened.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, date, datetime
from functools import cached_property, partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jieba
import numpy as np

from . import lexical
from .embeddings import Embedder
from .errors import (
    IndexCorruptError,
    IndexMismatchError,
    IndexMissingError,
    IndexWriteError,
    StoreUnavailableError,
)
from .lexical import tokenize
from .models import Chunk, Document, Kind, NoteCite, NoteStatement, Status
from .settings import Settings

if TYPE_CHECKING:
    from .lease import IngestLease

log = logging.getLogger(__name__)
READ_BATCH = 1000  # records per request when a generation is read from Chroma
TOKENIZER_ID = f"jieba-{jieba.__version__}/" + hashlib.sha256(Path(lexical.__file__).read_bytes()).hexdigest()[:16]
FORMAT_VERSION = 1
BATCH = 64
REBUILD_HINT = "Run `icp-assistant ingest --rebuild` to build it again."
SERVER_HINT = (" (start it with `chroma run --path DIR --host HOST --port PORT`, or unset CHROMA_HOST to use the "
               "embedded store)")
FULL_OR_READ_ONLY = re.compile(r"disk is full|no space left|read-?only", re.IGNORECASE)
LOW_SPACE = 8 * 2**20  # bytes free under which a failed write counts as a full disk (a generation takes ~100 MB)
# httpx's names: chromadb's HttpClient lets them through unwrapped.
TRANSPORT_ERRORS = {"ConnectError", "ReadTimeout", "WriteTimeout", "PoolTimeout", "ConnectTimeout",
                    "RemoteProtocolError", "ReadError", "WriteError"}


def _full_or_read_only(exc: BaseException) -> bool:
    """Whether ``exc`` or an error it was raised from says the disk is full or the store read-only."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if FULL_OR_READ_ONLY.search(str(current)):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


@dataclass(frozen=True)
class IndexInfo:
    """What the pointer says about the generation that answers."""

    collection: str
    model_id: str
    fingerprint: str
    chunks: int
    documents: int
    built_at: str
    corpus_version: str


@dataclass(frozen=True)
class IngestReport:
    documents: int
    chunks: int
    added: int
    removed: int
    unchanged: int
    embedded: int
    seconds: float
    collection: str

    @property
    def chunks_per_second(self) -> float:
        return self.embedded / self.seconds if self.seconds else 0.0


@dataclass
class LoadedIndex:
    """The active generation, read once per process: chunks, document records and the vector store."""

    info: IndexInfo
    chunks: list[Chunk]
    documents: dict[str, Document]
    tokens: list[list[str]]
    embeddings: np.ndarray  # (len(chunks), dim), L2-normalised, row i = chunks[i]
    by_article: dict[tuple[str, int | None], list[Chunk]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for chunk in self.chunks:
            if not chunk.facet:  # facets only match; the unit itself is what gets cited
                self.by_article.setdefault((chunk.doc_id, chunk.article_no), []).append(chunk)


def make_client(settings: Settings) -> Any:
    # chromadb is imported here, not at the top: a start that can answer from a verified snapshot never opens
    # the store (its import alone is 0.4 s and 51 MB; see ``IndexStore.load``)
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    try:
        if settings.server_mode:
            return chromadb.HttpClient(host=settings.chroma_host, port=settings.chroma_port, settings=chroma_settings)
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(settings.data_dir / "chroma"), settings=chroma_settings)
    except Exception as exc:  # chromadb raises bare ValueError/ConnectionError subclasses here
        if settings.server_mode:
            where = f"{settings.chroma_host}:{settings.chroma_port}"
            raise StoreUnavailableError(f"Cannot open the Chroma store at {where}: {exc}{SERVER_HINT}") from exc
        path = settings.data_dir / "chroma"
        _forget_failed_system(path)
        if FULL_OR_READ_ONLY.search(str(exc)):  # opening writes too (SQLite journal): not damage, do not move it
            raise StoreUnavailableError(f"Cannot open the Chroma store in {path}: {exc}. The disk is full or the "
                                        "folder is read-only: free space or fix its permissions, then try again "
                                        "(the index in it is intact).") from exc
        if "database" in str(exc).lower():  # SQLite: "file is not a database", "disk image is malformed"
            raise IndexCorruptError(f"The Chroma store in {path} is damaged ({exc}). Move that folder away and run "
                                    "`icp-assistant ingest` to build the index again.") from exc
        raise StoreUnavailableError(f"Cannot open the Chroma store at {path}: {exc}") from exc


def _forget_failed_system(path: Path) -> None:
    """chromadb caches a client's system per path before starting it: a start that failed would be handed out
    again for the life of the process, so an app would never see the store repaired. Drop it."""
    from chromadb.api.shared_system_client import SharedSystemClient

    SharedSystemClient._identifier_to_system.pop(str(path), None)
    SharedSystemClient._identifier_to_refcount.pop(str(path), None)


def write_hint(settings: Settings) -> str:
    where = (f"the Chroma server at {settings.chroma_host}:{settings.chroma_port}" if settings.server_mode
             else str(settings.data_dir / "chroma"))
    return f"Check free disk space and write access for {where}, then run `icp-assistant ingest` again."


def is_unreachable(exc: BaseException) -> bool:
    """True for the transport errors a Chroma server that is down or gone away produces (httpx or OS level)."""
    return isinstance(exc, (ConnectionError, OSError)) or type(exc).__name__ in TRANSPORT_ERRORS


def unreachable_message(settings: Settings, exc: BaseException) -> str:
    if settings.server_mode:
        return f"The Chroma server at {settings.chroma_host}:{settings.chroma_port} does not answer: {exc}{SERVER_HINT}"
    return f"The Chroma store in {settings.data_dir} cannot be used: {exc}"


class IndexStore:
    """The generations of one index (``settings.collection``) in one Chroma store."""

    def __init__(self, settings: Settings, embedder: Embedder) -> None:
        self.settings = settings
        self.embedder = embedder
        self.prefix = settings.collection
        # In server mode too: a copy kept on the app host (a cache, where the feedback file already lives) spares
        # each start reading every record over HTTP, which left an app at 550 MB before its first question
        # against 393 MB from a snapshot (32 users: 580 MB). The pointer and the count still come from the server.
        self.snapshots = Snapshots(settings.data_dir / "snapshots", self.prefix)

    @cached_property
    def client(self) -> Any:
        """The Chroma client, opened at first use."""
        return make_client(self.settings)

    # --- the pointer --------------------------------------------------------------------------------------

    def _meta(self) -> Any:
        return self._call(lambda: self.client.get_or_create_collection(f"{self.prefix}_meta"))

    def _call(self, fn: Callable[[], Any]) -> Any:
        try:
            return fn()
        except Exception as exc:
            if is_unreachable(exc):
                raise StoreUnavailableError(unreachable_message(self.settings, exc)) from exc
            raise

    def active(self) -> IndexInfo | None:
        meta = self._meta().metadata or {}
        if "collection" not in meta:
            return None
        if meta.get("format_version") != FORMAT_VERSION:
            raise IndexMismatchError(f"The index was written by another version of icp-assistant. {REBUILD_HINT}")
        return IndexInfo(collection=meta["collection"], model_id=meta["model_id"], fingerprint=meta["fingerprint"],
                         chunks=meta["chunks"], documents=meta["documents"], built_at=meta["built_at"],
                         corpus_version=meta.get("corpus_version", ""))

    def _flip(self, info: IndexInfo) -> None:
        self._meta().modify(metadata={**asdict(info), "format_version": FORMAT_VERSION})

    def _collections(self) -> list[str]:
        names = [c if isinstance(c, str) else c.name for c in self._call(self.client.list_collections)]
        return [n for n in names if n.startswith(f"{self.prefix}_g")]

    # --- ingest -------------------------------------------------------------------------------------------

    def sync(self, documents: Sequence[Document], chunks: Sequence[Chunk], *, rebuild: bool = False,
             corpus_version: str = "", progress: Callable[[int, int], None] | None = None,
             wait_s: float = 0.0, notify: Callable[[str], None] | None = None) -> IngestReport:
        """Make the active generation hold exactly ``chunks``; embed only what is new.

        Holds the ingest lease throughout (``lease.py``): with another ingest running this waits up to
        ``wait_s`` seconds and then raises ``IndexBusyError``. ``notify`` hears about waiting and take-overs.
        """
        from chromadb.errors import ChromaError

        from .lease import IngestLease

        lease = IngestLease(self.client, self.prefix, renew_s=self.settings.lease_renew_s,
                            expiry_s=self.settings.lease_expiry_s, notify=notify)

        def locked() -> IngestReport:
            try:
                with lease:
                    lease.acquire(wait_s)
                    return self._sync(documents, chunks, lease, rebuild=rebuild, corpus_version=corpus_version,
                                      progress=progress)
            except ChromaError as exc:  # e.g. "database or disk is full", a read-only store
                raise IndexWriteError(f"Writing the index failed ({exc}); the previous generation keeps answering. "
                                      f"{write_hint(self.settings)}") from exc

        # A server that goes away mid-ingest leaves the pointer on the old generation: report it by name.
        report = self._call(locked)
        # The check a load makes, made now, so that the next start need not open the store to make it. After the
        # lease is released: releasing it writes to the store, which would make the stamp stale at once.
        active = self.active() if self._stamp() is not None else None  # embedded only
        if active is not None and active.collection == report.collection:
            self._mark_verified(active, self.client.get_collection(active.collection))
        return report

    def _sync(self, documents: Sequence[Document], chunks: Sequence[Chunk], lease: IngestLease, *, rebuild: bool,
              corpus_version: str, progress: Callable[[int, int], None] | None) -> IngestReport:
        started = time.perf_counter()
        by_id = {d.doc_id: d for d in documents}
        # The fingerprint needs no tokens (they follow from the text and the tokenizer, which it names): an
        # unchanged corpus skips tokenizing 8,894 entries with jieba (1.4 s of a 3.1 s re-ingest).
        records = [(c.chunk_id, c.text, chunk_metadata(c, by_id)) for c in chunks]
        fingerprint = _fingerprint(records, self.embedder.model_id)
        active = self._readable_active()
        # We hold the lease: any generation but the one the pointer names (readable or not, it goes only after
        # the flip) is debris of an ingest that died or was taken over.
        self._drop_stray(keep=(self._meta().metadata or {}).get("collection", ""), lease=lease)
        old_ids: set[str] = set()
        if active is not None and not rebuild:
            old_ids = set(self.client.get_collection(active.collection).get(include=[])["ids"])
        new_ids = {r[0] for r in records}
        reusable = old_ids if active is not None and active.model_id == self.embedder.model_id else set()
        # Same fingerprint but other ids: chunks went missing from the collection; write a new generation.
        if active is not None and not rebuild and active.fingerprint == fingerprint and old_ids == new_ids:
            return IngestReport(len(documents), len(records), 0, 0, len(records), 0,
                                time.perf_counter() - started, active.collection)
        for _, _, meta in records:
            meta["tokens"] = " ".join(tokenize(meta["embed_text"]))
        name = f"{self.prefix}_g{datetime.now(UTC).strftime('%Y%m%d%H%M%S%f')}"
        cached = self._stored_embeddings(active.collection, reusable & new_ids) if active and reusable else {}
        lease.ensure_held(generation=name)  # the lease names what we build: cleanup by others must spare it
        try:
            embedded, vectors = self._write_generation(name, records, cached, lease, progress)
            info = IndexInfo(collection=name, model_id=self.embedder.model_id, fingerprint=fingerprint,
                             chunks=len(records), documents=len(documents),
                             built_at=datetime.now(UTC).isoformat(timespec="seconds"), corpus_version=corpus_version)
            lease.ensure_held()  # last check: a lease taken over while we were stalled must not flip
            self._flip(info)
        except BaseException as exc:
            # On a full or read-only store Chroma's delete_collection can block without end while holding the GIL
            # (faulthandler stacks, 1 in ~25 runs of the full-disk test), so no thread can bound it: leave the
            # generation; the next ingest's stray cleanup removes it once the disk has room.
            if self._full(exc):
                log.info("left the half-built generation %s on a full or read-only store; the next ingest "
                         "removes it", name)
            else:
                self._discard(name)
            raise
        self._drop_stray(keep=name, lease=lease)
        # The snapshot of what was just written, so that no process reads it back through Chroma: that read left
        # an app that followed an ingest ~420 MB larger.
        self.snapshots.write(info, {"ids": [r[0] for r in records], "documents": [r[1] for r in records],
                                    "metadatas": [r[2] for r in records], "embeddings": vectors})
        return IngestReport(len(documents), len(records), len(new_ids - old_ids), len(old_ids - new_ids),
                            len(new_ids & old_ids), embedded, time.perf_counter() - started, name)

    def _write_generation(self, name: str, records: list[tuple[str, str, dict]], cached: dict[str, list[float]],
                          lease: IngestLease, progress: Callable[[int, int], None] | None) -> tuple[int, np.ndarray]:
        """Write every record into the new collection ``name`` (renewing the lease); returns how many were embedded,
        and the vectors written (row i = records[i])."""
        # Chroma's own client: no embedding function (ours computes the vectors; Chroma's default would download a
        # model), the model id in the collection's metadata.
        collection = self._call(lambda: self.client.get_or_create_collection(
            name, embedding_function=None, metadata={"hnsw:space": "cosine", "model_id": self.embedder.model_id}))
        embedded, written = 0, np.zeros((len(records), self.embedder.dim), dtype=np.float32)
        for start in range(0, len(records), BATCH):
            batch = records[start : start + BATCH]
            vectors = self._vectors(batch, cached)
            embedded += sum(1 for r in batch if r[0] not in cached)
            collection.add(ids=[r[0] for r in batch], documents=[r[1] for r in batch],
                           metadatas=[r[2] for r in batch], embeddings=vectors)
            written[start : start + len(batch)] = np.asarray(vectors, dtype=np.float32)
            lease.ensure_held()
            if progress:
                progress(min(start + BATCH, len(records)), len(records))
        return embedded, written

    def _full(self, exc: BaseException) -> bool:
        """Whether a failed write failed for want of space or write access: the error says so, or (embedded store)
        its disk has less than ``LOW_SPACE`` bytes free. With 512 KB left, Chroma says only "Error in compaction:
        Failed to apply logs to the metadata segment"."""
        if _full_or_read_only(exc):
            return True
        if self.settings.server_mode:
            return False
        try:
            return shutil.disk_usage(self.settings.data_dir).free < LOW_SPACE
        except OSError:
            return False

    def _discard(self, name: str) -> None:
        """Remove our half-built generation after a failure, unless the pointer already names it. Best effort:
        one left behind (store unreachable, disk full) is removed by the next ingest."""
        try:
            active = self.active()
            if active is None or active.collection != name:
                self.client.delete_collection(name)
        except Exception as exc:  # noqa: BLE001 - the original error is what the caller must see
            log.warning("could not remove the half-built generation %s: %s", name, exc)

    def _readable_active(self) -> IndexInfo | None:
        """The pointer, or None when its generation cannot be reused (other format, collection gone or unreadable):
        ingest then writes a whole new generation, which is what repairs such an index."""
        try:
            active = self.active()
            if active is not None:
                self.client.get_collection(active.collection).count()
            return active
        except Exception as exc:
            if is_unreachable(exc):
                raise
            return None

    def _vectors(self, batch: list[tuple[str, str, dict]], cached: dict[str, list[float]]) -> list[Sequence[float]]:
        todo = [r for r in batch if r[0] not in cached]
        fresh = dict(zip((r[0] for r in todo), self.embedder.encode_documents([r[2]["embed_text"] for r in todo]), strict=True))
        return [cached[r[0]] if r[0] in cached else fresh[r[0]].tolist() for r in batch]

    def _stored_embeddings(self, collection: str, ids: set[str]) -> dict[str, list[float]]:
        if not ids:
            return {}
        got = self._call(lambda: self.client.get_collection(collection).get(ids=sorted(ids), include=["embeddings"]))
        return {i: list(map(float, e)) for i, e in zip(got["ids"], got["embeddings"], strict=True)}

    def _drop_stray(self, keep: str, lease: IngestLease) -> None:
        """Remove every generation but ``keep`` and those a live lease of another ingest is building."""
        spared = lease.protected()
        for name in self._collections():
            if name != keep and name not in spared:
                self._call(partial(self.client.delete_collection, name))

    # --- query side ---------------------------------------------------------------------------------------

    def _read_all(self, collection: Any, count: int) -> dict[str, list[Any]]:
        """Every record of a finished generation, ``READ_BATCH`` at a time: one request for all 8,894 records of
        the full corpus peaked at ~950 MB in a server-mode app (the whole JSON reply and its parsed floats at
        once); batches keep the peak to one batch."""
        got: dict[str, list[Any]] = {"ids": [], "documents": [], "metadatas": [], "embeddings": []}
        for offset in range(0, max(count, 1), READ_BATCH):
            part = self._call(partial(collection.get, include=["documents", "metadatas", "embeddings"],
                                      limit=READ_BATCH, offset=offset))
            for key in ("ids", "documents", "metadatas"):
                got[key].extend(part[key])
            got["embeddings"].extend(np.asarray(v, dtype=np.float32) for v in part["embeddings"])
        return got

    def load(self) -> LoadedIndex:
        """The active generation; refuses an index built with another embedding model.

        When the store's file is exactly as it was after the last load that checked it (``Snapshots.verified``),
        the generation is read from its snapshot without opening Chroma: 0.84 s and 65 MB less at every start
        (import 0.41 s, client 0.17 s, the count's first read 0.26 s). Any write to the store since then, an
        ingest or damage, changes the file, and the load checks the store in full as before.
        """
        quick = self.snapshots.verified(self._stamp())
        if quick is not None:
            self._check_model(quick[0])
            return _loaded(*quick)
        pointer = self.active()
        if pointer is None:
            raise IndexMissingError("No index has been built yet. Run `icp-assistant ingest` first.")
        info = pointer
        self._check_model(info)
        try:  # the generation must be whole in the store even when a snapshot stands in for reading it
            collection = self._call(lambda: self.client.get_collection(info.collection))
            stored = self._call(collection.count)
            snapshot = self.snapshots.read(info) if stored == info.chunks else None
            if snapshot is None and stored == info.chunks and self.settings.server_mode:
                snapshot = self._snapshot_from_child(info)
            fresh = snapshot is None
            got = self._read_all(collection, stored) if snapshot is None else snapshot
        except Exception as exc:
            if isinstance(exc, StoreUnavailableError):
                raise
            raise IndexCorruptError(f"The active index collection {info.collection!r} cannot be read ({exc}). "
                                    f"{REBUILD_HINT}") from exc
        if len(got["ids"]) != info.chunks:
            raise IndexCorruptError(f"The index holds {len(got['ids'])} chunks but its pointer says "
                                    f"{info.chunks}. {REBUILD_HINT}")
        if fresh:
            self.snapshots.write(info, got)
        self._mark_verified(info, collection)
        return _loaded(info, got)

    def _snapshot_from_child(self, info: IndexInfo) -> dict[str, Any] | None:
        """Server mode, no local copy yet: a child process reads the generation over HTTP and writes the snapshot,
        which this process then reads. Read here, the 8,855 records of the full corpus left an app 140 MB larger
        for good (580 against 444 MB under 32 users). None if the child could not (this process reads it then)."""
        try:
            subprocess.run([sys.executable, "-m", "assistant.index"], input=self.settings.model_dump_json(), text=True,
                           cwd=Path(__file__).resolve().parent.parent, capture_output=True, timeout=600, check=True)
        except (OSError, subprocess.SubprocessError) as exc:
            log.warning("reading the index generation in a child process failed (%s); reading it here", exc)
            return None
        return self.snapshots.read(info)

    def _check_model(self, info: IndexInfo) -> None:
        if info.model_id != self.embedder.model_id:
            raise IndexMismatchError(
                f"The index was built with {info.model_id!r} but the configured embedding model is "
                f"{self.embedder.model_id!r}. Re-ingest with the configured model (`icp-assistant ingest`) "
                f"or set ICP_EMBEDDING to the backend that built it.")

    def _stamp(self) -> tuple[int, int, int] | None:
        """Identity, size and modification time (ns) of the embedded store's database file; None in server mode.

        Assumes a file system with fine timestamps (ext4, xfs, overlayfs: ns); on one with coarse timestamps
        a same-size write within one tick would go unseen, and the store is then checked at the next change.
        """
        if self.settings.server_mode:
            return None
        try:
            st = (self.settings.data_dir / "chroma" / "chroma.sqlite3").stat()
        except OSError:
            return None
        return (st.st_ino, st.st_size, st.st_mtime_ns)

    def unchanged(self, info: IndexInfo) -> bool:
        """Whether the store is as it was when ``info``'s generation was last checked (then no ingest swapped it)."""
        verified = self.snapshots.verified_info(self._stamp())
        return verified is not None and verified.collection == info.collection

    def _mark_verified(self, info: IndexInfo, collection: Any) -> None:
        """Record the store's stamp as checked. Opening the store writes to its file, so the stamp is taken after
        the check, and kept only if a second look at the pointer and the count, between two equal stamps,
        still agrees: a write after the check changes the second stamp, one before it the second look."""
        before = self._stamp()
        if before is None:
            return
        try:
            same = self.active() == info and collection.count() == info.chunks
        except Exception:  # noqa: BLE001 - only the speed of the next start depends on it
            return
        if same and self._stamp() == before:
            self.snapshots.mark_verified(before, info)


def _loaded(info: IndexInfo, got: dict[str, Any]) -> LoadedIndex:
    """The generation's records (from Chroma or a snapshot) as chunks, documents, tokens and vectors."""
    chunks, documents, tokens, vectors = [], {}, [], []
    for cid, text, meta, vector in sorted(zip(got["ids"], got["documents"], got["metadatas"], got["embeddings"], strict=True),
                                          key=lambda r: (r[2]["doc_id"], r[2]["position"])):
        chunks.append(chunk_from_metadata(cid, text, meta))
        vectors.append(vector)
        tokens.append([sys.intern(t) for t in meta["tokens"].split(" ")] if meta["tokens"] else [])  # one str per distinct word
        if "document" in meta:
            documents[meta["doc_id"]] = document_from_json(meta["document"])
    return LoadedIndex(info=info, chunks=chunks, documents=documents, tokens=tokens,
                       embeddings=np.asarray(vectors, dtype=np.float32).reshape(len(chunks), -1))


class Snapshots:
    """A local, read-only copy of a finished generation's records (ids, texts, metadata, vectors), keyed by the
    generation's collection name, so that a process starting up reads one file instead of every record through
    Chroma.

    Measured on the full corpus (8,894 records): Chroma's ``get`` of every record took 1.5 s and left the process
    ~420 MB larger (allocations on Chroma's side that stay after the result is freed); the snapshot loads in
    ~0.3 s. A generation never changes once its pointer is written, so the name is a sufficient key; the pointer
    and the generation's record count are still read from Chroma at every load (or, for the embedded store, its
    file is seen to be as the last load that read them left it: ``verified``), so a new or damaged generation is
    always seen. Only the active generation's snapshot is kept; an unreadable one is ignored and rewritten.
    """

    def __init__(self, folder: Path, prefix: str) -> None:
        self.folder = folder
        self.prefix = prefix  # generations of this index are named f"{prefix}_g..."

    def _paths(self, info: IndexInfo) -> tuple[Path, Path]:
        return self.folder / f"{info.collection}.json", self.folder / f"{info.collection}.npy"

    def read(self, info: IndexInfo) -> dict[str, Any] | None:
        records, vectors = self._paths(info)
        try:
            raw = json.loads(records.read_text(encoding="utf-8"))
            embeddings = np.load(vectors, allow_pickle=False)
        except (OSError, ValueError):
            return None
        if (raw.get("collection") != info.collection or raw.get("model_id") != info.model_id
                or len(raw.get("ids", ())) != info.chunks or embeddings.shape[0] != info.chunks):
            return None
        return {"ids": raw["ids"], "documents": raw["documents"], "metadatas": raw["metadatas"],
                "embeddings": embeddings}

    def _verified_path(self) -> Path:
        return self.folder / f"{self.prefix}.verified.json"  # outside the f"{prefix}_g*" names ``write`` prunes

    def verified_info(self, stamp: tuple[int, int, int] | None) -> IndexInfo | None:
        """The generation last checked in the store, if the store's stamp is still ``stamp``."""
        if stamp is None:
            return None
        try:
            raw = json.loads(self._verified_path().read_text(encoding="utf-8"))
            if raw["format_version"] != FORMAT_VERSION or tuple(raw["stamp"]) != stamp:
                return None
            return IndexInfo(**raw["info"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def verified(self, stamp: tuple[int, int, int] | None) -> tuple[IndexInfo, dict[str, Any]] | None:
        """That generation and its records, when both the stamp and its snapshot hold."""
        info = self.verified_info(stamp)
        got = self.read(info) if info is not None else None
        return (info, got) if info is not None and got is not None else None

    def mark_verified(self, stamp: tuple[int, int, int], info: IndexInfo) -> None:
        """Best effort, like ``write``."""
        path = self._verified_path()
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        try:
            tmp.write_text(json.dumps({"format_version": FORMAT_VERSION, "stamp": list(stamp), "info": asdict(info)}),
                           encoding="utf-8")
            tmp.replace(path)
        except OSError as exc:
            log.warning("could not record the checked index in %s: %s", self.folder, exc)

    def write(self, info: IndexInfo, got: Any) -> None:
        """Best effort: a full disk or a read-only data folder only costs the next start its speed."""
        records, vectors = self._paths(info)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            for path in self.folder.glob(f"{self.prefix}_g*"):  # this index's older generations
                if not path.name.startswith(f"{info.collection}."):
                    path.unlink(missing_ok=True)
            tmp_vectors = vectors.with_suffix(f".{os.getpid()}.tmp.npy")
            np.save(tmp_vectors, np.asarray(got["embeddings"], dtype=np.float32), allow_pickle=False)
            tmp_records = records.with_suffix(f".{os.getpid()}.tmp")
            tmp_records.write_text(json.dumps({"collection": info.collection, "model_id": info.model_id,
                                               "ids": list(got["ids"]), "documents": list(got["documents"]),
                                               "metadatas": list(got["metadatas"])}, ensure_ascii=False),
                                   encoding="utf-8")
            tmp_vectors.replace(vectors)
            tmp_records.replace(records)  # last: a snapshot without its records is never read
        except OSError as exc:
            log.warning("could not write the index snapshot in %s: %s", self.folder, exc)


# --- (de)serialisation at the vector-store edge -----------------------------------------------------------------


def chunk_metadata(chunk: Chunk, documents: dict[str, Document]) -> dict[str, Any]:
    """What Chroma stores beside a chunk's text, without its BM25 tokens (``_sync`` adds those when it writes)."""
    doc = documents[chunk.doc_id]
    meta: dict[str, Any] = {
        "doc_id": chunk.doc_id, "position": chunk.position, "title_path": chunk.title_path,
        "article_no": -1 if chunk.article_no is None else chunk.article_no, "part": chunk.part,
        "statement_id": chunk.statement_id, "language": chunk.language, "context": chunk.context,
        "annex": chunk.annex, "facet": chunk.facet, "parent": chunk.parent, "kind": doc.kind.value, "status": doc.status.value, "title": doc.title,
        "version": doc.version, "date_effective": doc.date_effective.isoformat() if doc.date_effective else "",
        "embed_text": chunk.embed_text,
    }
    if chunk.position == 0:
        meta["document"] = document_to_json(doc)
    return meta


def chunk_from_metadata(chunk_id: str, text: str, meta: dict[str, Any]) -> Chunk:
    return Chunk(chunk_id=chunk_id, doc_id=meta["doc_id"], position=int(meta["position"]), text=text,
                 title_path=meta["title_path"], article_no=None if meta["article_no"] < 0 else int(meta["article_no"]),
                 part=int(meta["part"]), statement_id=meta["statement_id"], language=meta["language"],
                 context=meta["context"], annex=bool(meta["annex"]), facet=meta.get("facet", ""),
                 parent=meta.get("parent", ""))


def _json_default(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (Kind, Status)):
        return value.value
    raise TypeError(type(value))


def document_to_json(doc: Document) -> str:
    return json.dumps(asdict(replace(doc, body="")), default=_json_default, ensure_ascii=False, sort_keys=True)


def document_from_json(text: str) -> Document:
    raw = json.loads(text)
    for key in ("date_promulgated", "date_effective"):
        raw[key] = date.fromisoformat(raw[key]) if raw[key] else None
    raw["kind"], raw["status"] = Kind(raw["kind"]), Status(raw["status"])
    raw["warnings"] = tuple(tuple(w) for w in raw["warnings"])
    raw["contradicts"] = tuple(tuple(r) for r in raw.get("contradicts", ()))  # (an index written before the field)
    raw["outdated_articles"] = tuple(tuple(o) for o in raw["outdated_articles"])
    raw["statements"] = tuple(
        NoteStatement(id=s["id"], questions={k: tuple(v) for k, v in s["questions"].items()}, verdict=s["verdict"],
                      text=s["text"], cites=tuple(NoteCite(**c) for c in s["cites"]), in_scope=s["in_scope"])
        for s in raw["statements"])
    return Document(**raw)


def _fingerprint(records: list[tuple[str, str, dict]], model_id: str) -> str:
    """Of the records without their tokens, the embedding model and the tokenizer (its code and jieba's
    version): a change to any of them makes a new generation."""
    h = hashlib.sha256(model_id.encode())
    h.update(TOKENIZER_ID.encode())
    for cid, _, meta in records:
        h.update(cid.encode())
        h.update(json.dumps(meta, sort_keys=True, ensure_ascii=False).encode())
    return h.hexdigest()


def _write_snapshot_of_active(settings: Settings) -> None:
    """The child's side of ``IndexStore._snapshot_from_child``: read the active generation, write its snapshot."""
    from .embeddings import make_embedder

    store = IndexStore(settings, make_embedder(settings))
    info = store.active()
    if info is None:
        return
    collection = store.client.get_collection(info.collection)
    got = store._read_all(collection, collection.count())
    if len(got["ids"]) == info.chunks:
        store.snapshots.write(info, got)


if __name__ == "__main__":
    _write_snapshot_of_active(Settings.model_validate_json(sys.stdin.read()))

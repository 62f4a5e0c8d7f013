"""The ingest lease: one ingest at a time per index, across processes and machines, kept inside Chroma.

An ingest holds a *lease* while it builds and swaps a generation (``index.py``). The lease lives in the
same store as the index (embedded or ``chroma run``), so it holds wherever the index is shared. Each lease
is one empty collection ``<prefix>_lease_<epoch>`` whose metadata names the holder (lease id, host, pid,
start time, last renewal, the generation it is building); the highest epoch is the current lease.

Taking the lease is a compare-and-set on the epoch: a process that finds the current epoch released or
expired creates the collection of the *next* epoch. Chroma refuses to create a collection whose name exists
(a unique constraint in its SQLite catalogue, embedded and server alike), so of several processes racing
for the same expired lease exactly one creates it and the others read that holder and wait or give up.
Nobody but its holder writes an epoch's record, so renewals never overwrite a newer holder.

Residual race, stated honestly: a holder that stalls for longer than the expiry *between* its last lease
check and the pointer flip (a VM pause, SIGSTOP; the gap is one metadata write) can flip after another
process took the lease over. Both generations are complete, so readers never see a half-built index, but in
the worst interleaving the pointer can end up naming a generation the new holder already dropped; the next
ingest repairs that. The expiry is the holder's own (stored in its record, so a reader configured otherwise
cannot cut a live lease short) and is judged against the holder's wall clock: hosts must keep their clocks in
sync (NTP) to well under the expiry. A waiting ingest (``--wait``) also takes over a lease it has *watched*
stand still for the expiry, whatever the clocks say.
"""

from __future__ import annotations

import logging
import os
import re
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from chromadb.errors import ChromaError

from .errors import IndexBusyError, LeaseLostError

log = logging.getLogger(__name__)
Notify = Callable[[str], None]
POLL_MAX_S = 1.0  # how often a waiting ingest looks at the lease again (at most)


@dataclass(frozen=True)
class LeaseRecord:
    """One epoch's lease, as stored in its collection's metadata."""

    epoch: int
    lease_id: str
    host: str
    pid: int
    started_at: float  # seconds since the epoch (holder's clock)
    renewed_at: float
    renewals: int  # changes at every renewal: lets a waiter see a lease stand still without trusting clocks
    expiry_s: float  # the holder's promise: it renews well within this; past it, others may take over
    generation: str = ""  # the generation collection this holder is building ("" until it starts one)
    released: bool = False

    def metadata(self) -> dict[str, Any]:
        return {"lease_id": self.lease_id, "host": self.host, "pid": self.pid, "started_at": self.started_at,
                "renewed_at": self.renewed_at, "renewals": self.renewals, "expiry_s": self.expiry_s,
                "generation": self.generation,
                "released": self.released}

    @classmethod
    def from_metadata(cls, epoch: int, meta: dict[str, Any]) -> LeaseRecord:
        return cls(epoch=epoch, lease_id=str(meta.get("lease_id", "")), host=str(meta.get("host", "?")),
                   pid=int(meta.get("pid", 0)), started_at=float(meta.get("started_at", 0.0)),
                   renewed_at=float(meta.get("renewed_at", 0.0)), renewals=int(meta.get("renewals", 0)),
                   expiry_s=float(meta.get("expiry_s", 0.0)),
                   generation=str(meta.get("generation", "")), released=bool(meta.get("released", False)))

    def expired(self, now: float) -> bool:
        return now - self.renewed_at > self.expiry_s

    def describe(self, now: float) -> str:
        since = datetime.fromtimestamp(self.started_at).strftime("%H:%M:%S")
        return f"host {self.host} pid {self.pid} since {since}, last renewed {max(0.0, now - self.renewed_at):.0f} s ago"


def busy_message(holder: LeaseRecord, now: float) -> str:
    return f"another ingest holds the index lease: {holder.describe(now)}; re-run with --wait or try later"


class IngestLease:
    """Take, renew (a background thread, plus ``ensure_held`` between batches) and release the lease."""

    def __init__(self, client: Any, prefix: str, *, renew_s: float, expiry_s: float,
                 clock: Callable[[], float] = time.time, notify: Notify | None = None,
                 release_wait_s: float = 5.0) -> None:
        self.client, self.renew_s, self.expiry_s = client, renew_s, expiry_s
        self.release_wait_s = release_wait_s  # how long ``release`` waits for a renewal under way
        self._name = f"{prefix}_lease_"
        self._pattern = re.compile(re.escape(self._name) + r"(\d{8})$")
        self._clock, self._notify = clock, notify or (lambda _: None)
        self._lock = threading.Lock()  # the thread and the ingest both renew
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.record: LeaseRecord | None = None  # ours, once taken
        self.taken_over: LeaseRecord | None = None  # the expired lease we replaced, if any
        self.lost_to: LeaseRecord | None = None

    # --- reading ------------------------------------------------------------------------------------------

    def records(self) -> list[LeaseRecord]:
        """Every lease epoch in the store, oldest first."""
        out = []
        for col in self.client.list_collections():
            match = self._pattern.match(col if isinstance(col, str) else col.name)
            if match:
                meta = col.metadata if not isinstance(col, str) else self.client.get_collection(col).metadata
                out.append(LeaseRecord.from_metadata(int(match.group(1)), meta or {}))
        return sorted(out, key=lambda r: r.epoch)

    def current(self) -> LeaseRecord | None:
        records = self.records()
        return records[-1] if records else None

    # --- taking -------------------------------------------------------------------------------------------

    def acquire(self, wait_s: float = 0.0) -> LeaseRecord:
        """Take the lease; wait up to ``wait_s`` seconds (``math.inf``: no limit) while another ingest holds it."""
        deadline = time.monotonic() + wait_s
        watched: tuple[str, int] | None = None  # (lease id, renewals) of the holder, and since when unchanged
        watched_since = time.monotonic()
        told = False
        while True:
            holder = self.current()
            if holder is not None and (holder.lease_id, holder.renewals) != watched:
                watched, watched_since = (holder.lease_id, holder.renewals), time.monotonic()
            stalled = holder is not None and time.monotonic() - watched_since > holder.expiry_s
            if holder is None or holder.released or stalled or holder.expired(self._clock()):
                if self._try_take(holder):
                    return self._started()
                continue  # another process took this epoch first: look at the new holder
            now = self._clock()
            if time.monotonic() >= deadline:
                raise IndexBusyError(busy_message(holder, now), holder=holder)
            if not told:
                self._notify(f"waiting: another ingest holds the index lease: {holder.describe(now)}")
                told = True
            time.sleep(max(0.05, min(POLL_MAX_S, self.renew_s, deadline - time.monotonic())))

    def _try_take(self, previous: LeaseRecord | None) -> bool:
        """Create the next epoch's collection; False when another process created it first."""
        now = self._clock()
        mine = LeaseRecord(epoch=(previous.epoch if previous else 0) + 1, lease_id=uuid.uuid4().hex,
                           host=socket.gethostname(), pid=os.getpid(), started_at=now, renewed_at=now, renewals=0,
                           expiry_s=self.expiry_s)
        name = f"{self._name}{mine.epoch:08d}"
        try:
            self.client.create_collection(name, metadata=mine.metadata())
        except ChromaError as exc:  # "already exists" (InternalError embedded, ChromaError from a server)
            try:
                stored = self.client.get_collection(name).metadata or {}
            except ChromaError:  # the name does not exist: the create failed for another reason
                raise exc from None
            if stored.get("lease_id") != mine.lease_id:
                return False  # lost the race for this epoch
        self.record = mine
        if previous is not None and not previous.released:
            self.taken_over = previous
            self._notify(f"took over the index lease of {previous.describe(now)} (expiry {previous.expiry_s:g} s)"
                         + (f"; removing its half-built generation {previous.generation}" if previous.generation
                            else ""))
        return True

    def _started(self) -> LeaseRecord:
        assert self.record is not None
        for old in self.records():  # older epochs are history now: nobody can hold them any more
            if old.epoch < self.record.epoch:
                self._delete(old.epoch)
        self._thread = threading.Thread(target=self._renew_loop, name="ingest-lease", daemon=True)
        self._thread.start()
        return self.record

    def _delete(self, epoch: int) -> None:
        try:
            self.client.delete_collection(f"{self._name}{epoch:08d}")
        except Exception as exc:  # noqa: BLE001 - another ingest removed it first; nothing depends on it
            log.info("old lease epoch %s not removed: %s", epoch, exc)

    # --- holding ------------------------------------------------------------------------------------------

    def ensure_held(self, generation: str | None = None) -> None:
        """Check that the lease is still ours and renew it (optionally naming the generation being built).

        Raises ``LeaseLostError`` when another process took it over: the caller must stop before the flip.
        """
        with self._lock:
            if self.record is None:
                raise LeaseLostError("this ingest does not hold the index lease")
            current = self.current()
            if current is None or current.lease_id != self.record.lease_id:
                self.lost_to = current
                self._stop.set()
                who = current.describe(self._clock()) if current else "nobody (the lease record was removed)"
                raise LeaseLostError(f"this ingest stopped renewing the index lease for longer than the expiry "
                                     f"({self.expiry_s:g} s) and it was taken over by {who}; it stopped before "
                                     "changing the index. Run the ingest again.")
            self._write(replace(self.record, renewed_at=self._clock(), renewals=self.record.renewals + 1,
                                generation=self.record.generation if generation is None else generation))

    def _write(self, record: LeaseRecord) -> None:
        self.client.get_collection(f"{self._name}{record.epoch:08d}").modify(metadata=record.metadata())
        self.record = record

    def _renew_loop(self) -> None:
        while not self._stop.wait(self.renew_s):
            try:
                self.ensure_held()
            except LeaseLostError:
                return  # the ingest sees it at its next ensure_held
            except Exception as exc:  # noqa: BLE001 - store briefly unreachable: the ingest's own calls report it
                log.warning("renewing the index lease failed: %s", exc)

    def release(self) -> None:
        """Mark our lease released (if it is still ours). Never raises and never waits without end: it runs on error
        paths too, where a renewal can be stuck in a call to a full or unreachable store while it holds the lock (an
        ingest on a disk with 512 KB left once hung past 300 s; waiting for that lock without a limit is one way)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.renew_s + self.release_wait_s)
        if not self._lock.acquire(timeout=self.release_wait_s):
            log.warning("releasing the index lease skipped: a renewal is stuck in a call to the store (the lease "
                        "expires in %g s)", self.expiry_s)
            return
        try:
            if self.record is None or self.lost_to is not None:
                return
            current = self.current()
            if current is not None and current.lease_id == self.record.lease_id:
                self._write(replace(self.record, renewed_at=self._clock(), released=True))
        except Exception as exc:  # noqa: BLE001 - store gone or full: the lease then simply expires
            log.warning("releasing the index lease failed (it expires in %g s): %s", self.expiry_s, exc)
        finally:
            self._lock.release()

    def protected(self) -> set[str]:
        """Generations named by a live lease other than ours: stray-generation cleanup must not touch them."""
        now = self._clock()
        mine = self.record.lease_id if self.record else ""
        return {r.generation for r in self.records()
                if r.generation and r.lease_id != mine and not r.released and not r.expired(now)}

    def __enter__(self) -> IngestLease:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

"""The ingest lease (lease.py) against a real embedded Chroma store in a temp folder.

Real processes, SIGKILL and a ``chroma run`` server are in test_faults.py; these are the rules, in-process.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from assistant import cli
from assistant.embeddings import make_embedder
from assistant.errors import ConfigError, IndexBusyError, LeaseLostError
from assistant.index import IndexStore, make_client
from assistant.ingest import ingest
from assistant.lease import IngestLease
from assistant.settings import Settings
from tests.fixtures import fake_settings

FILES = ("regulations/non-commercial-internet-information-services-filing-measures-2005.zh.md",)
BUSY = re.compile(r"another ingest holds the index lease: host \S+ pid \d+ since \d\d:\d\d:\d\d, last renewed \d+ s "
                  r"ago; re-run with --wait or try later")


@pytest.fixture()
def settings(tmp_path: Path) -> Settings:
    return fake_settings(tmp_path, FILES).with_(lease_renew_s=0.2, lease_expiry_s=1.0)


@pytest.fixture()
def client(settings: Settings) -> Any:
    return make_client(settings)


def lease(client: Any, expiry_s: float = 1.0, **kwargs: Any) -> IngestLease:
    return IngestLease(client, "icp", renew_s=expiry_s / 5, expiry_s=expiry_s, **kwargs)


def test_one_holder_at_a_time_and_the_message_names_it(client: Any) -> None:
    with lease(client, 30) as first:
        held = first.acquire()
        with pytest.raises(IndexBusyError) as raised:
            lease(client).acquire()
        assert BUSY.fullmatch(str(raised.value))
        assert f"host {socket.gethostname()} pid {held.pid}" in str(raised.value)
        assert raised.value.holder == first.current()
    # Released: the next one takes it at once, without a take-over.
    with lease(client) as second:
        assert second.acquire().epoch == held.epoch + 1
        assert second.taken_over is None


def test_renewals_keep_a_lease_alive_past_its_expiry(client: Any) -> None:
    with lease(client, 0.5) as holder:
        holder.acquire()
        time.sleep(1.5)  # three expiries: the thread renewed it
        with pytest.raises(IndexBusyError):
            lease(client, 0.5).acquire()
        holder.ensure_held()


def test_an_expired_lease_is_taken_over_and_its_holder_stops(client: Any) -> None:
    stalled = lease(client, 0.5)
    stalled.acquire()
    stalled.ensure_held(generation="icp_g_half_built")
    stalled._stop.set()  # a holder that stops renewing (as if paused)
    time.sleep(0.8)
    notices: list[str] = []
    with lease(client, 5, notify=notices.append) as taker:
        taker.acquire()
        assert taker.taken_over is not None and taker.taken_over.generation == "icp_g_half_built"
        assert notices and notices[0].startswith("took over the index lease of host ")
        assert "removing its half-built generation icp_g_half_built" in notices[0]
        assert [r.epoch for r in taker.records()] == [taker.record.epoch]  # type: ignore[union-attr]
        with pytest.raises(LeaseLostError, match="taken over by host"):
            stalled.ensure_held()  # the old holder finds out before it could flip
    stalled.release()  # does not touch the new holder's record
    assert taker.current().released  # type: ignore[union-attr]


def test_release_does_not_wait_without_end_for_a_stuck_renewal(client: Any, caplog: pytest.LogCaptureFixture) -> None:
    """On an error path (a full disk) a renewal can be stuck in a store call while it holds the lease's lock: release
    gives up after its wait, says so, and leaves the lease to expire; once the renewal is free it releases as usual."""
    holder = lease(client, 1.0, release_wait_s=0.3)
    holder.acquire()
    stuck, free = threading.Event(), threading.Event()

    def renewal_stuck_in_the_store() -> None:
        with holder._lock:
            stuck.set()
            free.wait(10)

    threading.Thread(target=renewal_stuck_in_the_store, daemon=True).start()
    assert stuck.wait(5)
    started = time.monotonic()
    holder.release()
    assert time.monotonic() - started < 2.0
    assert "releasing the index lease skipped" in caplog.text
    assert not holder.current().released  # type: ignore[union-attr]  # not marked: it expires
    free.set()
    holder.release()
    assert holder.current().released  # type: ignore[union-attr]


def test_waiting_takes_the_lease_when_the_holder_releases(client: Any) -> None:
    holder = lease(client, 30)
    holder.acquire()
    threading.Timer(0.6, holder.release).start()
    notices: list[str] = []
    started = time.monotonic()
    with lease(client, notify=notices.append) as waiter:
        waiter.acquire(wait_s=20)
    assert 0.5 < time.monotonic() - started < 10
    assert notices[0].startswith("waiting: another ingest holds the index lease")


def test_waiting_gives_up_after_its_limit(client: Any) -> None:
    with lease(client, 30) as holder:
        holder.acquire()
        started = time.monotonic()
        with pytest.raises(IndexBusyError, match="re-run with --wait"):
            lease(client).acquire(wait_s=0.7)
        assert 0.6 < time.monotonic() - started < 5


def test_racing_for_an_expired_lease_exactly_one_wins(client: Any) -> None:
    dead = lease(client, 0.3)
    dead.acquire()
    dead._stop.set()
    time.sleep(0.6)
    barrier = threading.Barrier(8)
    outcomes: list[str] = []

    def race() -> None:
        contender = lease(client, 30)
        barrier.wait()
        try:
            contender.acquire()
            outcomes.append(contender.record.lease_id)  # type: ignore[union-attr]
        except IndexBusyError:
            outcomes.append("busy")

    threads = [threading.Thread(target=race) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [o for o in outcomes if o != "busy"]
    assert len(winners) == 1, outcomes
    assert lease(client).current().lease_id == winners[0]  # type: ignore[union-attr]


def test_cleanup_spares_a_generation_whose_lease_is_alive(settings: Settings, client: Any) -> None:
    ingest(settings)
    store = IndexStore(settings, make_embedder(settings))
    client.create_collection("icp_g_being_built")
    with lease(client, 30) as other:  # another ingest, alive, building that generation
        other.acquire()
        other.ensure_held(generation="icp_g_being_built")
        onlooker = lease(client)
        assert onlooker.protected() == {"icp_g_being_built"}
        store._drop_stray(keep=store.active().collection, lease=onlooker)  # type: ignore[union-attr]
        assert "icp_g_being_built" in store._collections()


def test_ingest_while_another_holds_the_lease(settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    ingest(settings)
    holder = lease(make_client(settings), 30)
    holder.acquire()
    try:
        with pytest.raises(IndexBusyError):
            ingest(settings, rebuild=True)
        argv = ["ingest", "--rebuild", "--data-dir", str(settings.data_dir), "--embedding", "fake",
                "--corpus", str(settings.corpus_dirs[0])]
        assert cli.main(argv) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("error: another ingest holds") and BUSY.search(err) and "Traceback" not in err
        threading.Timer(0.5, holder.release).start()
        assert cli.main([*argv, "--wait", "20"]) == 0
        assert "waiting: another ingest holds the index lease" in capsys.readouterr().err
    finally:
        holder.release()


@pytest.mark.parametrize(("renew", "expiry"), [(0, 10), (10, 10), (20, 10)])
def test_lease_timings_are_checked(renew: float, expiry: float) -> None:
    with pytest.raises(ConfigError, match="ICP_LEASE_RENEW_S"):
        Settings(lease_renew_s=renew, lease_expiry_s=expiry)


def test_lease_timings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ICP_LEASE_RENEW_S", "2")
    monkeypatch.setenv("ICP_LEASE_EXPIRY_S", "30")
    s = Settings.from_env()
    assert (s.lease_renew_s, s.lease_expiry_s) == (2.0, 30.0)
    monkeypatch.setenv("ICP_LEASE_EXPIRY_S", "soon")
    with pytest.raises(ConfigError, match="ICP_LEASE_EXPIRY_S"):
        Settings.from_env()

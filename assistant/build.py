"""An index build running beside the chat (``serve --build``, what ``scripts/run`` does): the page comes up at
once, shows the build's progress, and answers as soon as an index is there.

The build is the ordinary ``ingest`` (same lease, same generation swap) in a child process, followed by a
background thread of the serving process that reads its progress. While it runs, an earlier index, if any,
keeps answering (its citations are its own, so they stay valid); the new generation is picked up by
``Assistant.refresh`` when the pointer moves. Without an earlier index, questions get a message with the
progress instead of an answer.

Why a process and not a thread: what an ingest allocates (the parsed corpus, jieba's tokens of every entry,
Chroma's client and writes) stayed in the serving process after the build. A first run of ``scripts/run``
served 32 users at 552 MB (peak 588 MB) with the build in a thread, against 430 MB for an app started on a
built index. A child also keeps a failing build from taking the page down with it.
"""

from __future__ import annotations

import atexit
import json
import logging
import math
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .errors import AssistantError, IndexMissingError
from .settings import PROJECT_ROOT, Settings

log = logging.getLogger(__name__)

Ingest = Callable[..., Any]  # assistant.ingest.ingest, or a wrapper of it in tests


class IndexBuildingError(IndexMissingError):
    """No index yet, but one is being built in this process: the message is the build's progress."""


@dataclass(frozen=True)
class BuildStatus:
    state: str  # waiting | running | done | failed
    done: int = 0
    total: int = 0
    elapsed_s: float = 0.0
    message: str = ""

    @property
    def finished(self) -> bool:
        return self.state in ("done", "failed")

    @property
    def eta_s(self) -> float | None:
        """Seconds left at the rate so far (None until a tenth of the chunks is through)."""
        if self.state != "running" or not self.total or self.done < max(1, self.total // 10):
            return None
        return self.elapsed_s * (self.total - self.done) / self.done

    def banner(self, *, answering: bool) -> str:
        """Markdown for the page's status banner ('' once the build is done)."""
        meanwhile = ("The previous index answers meanwhile." if answering
                     else "Questions are answered as soon as it is ready.")
        if self.state == "waiting":
            return f"⏳ Preparing the index: reading the corpus ({self.message or 'starting'}). {meanwhile}"
        if self.state == "running":
            share = f" ({100 * self.done // self.total} %)" if self.total else ""
            eta = f", about {math.ceil(self.eta_s)} s left" if self.eta_s is not None else ""
            return f"⏳ Building the index: {self.done:,} of {self.total:,} chunks{share}{eta}. {meanwhile}"
        if self.state == "failed":
            return f"⚠️ The index build failed: {self.message}"
        return ""


class BuildFailed(AssistantError):
    """The build process reported an error (its message), or ended without a report."""


def ingest_in_child(settings: Settings, *, progress: Callable[[int, int], None], wait_s: float,
                    notify: Callable[[str], None]) -> tuple[None, Any]:
    """``ingest(settings, ...)`` in a child process (``python -m assistant.build``): the same arguments and
    report, its progress and notices passed back as JSON lines. Its log goes to this process's stderr."""
    from .index import IngestReport

    child = subprocess.Popen([sys.executable, "-m", "assistant.build"], cwd=PROJECT_ROOT, text=True,
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    atexit.register(child.kill)  # the app going away takes its build with it (the lease frees the index)
    assert child.stdin is not None and child.stdout is not None
    child.stdin.write(json.dumps({"settings": json.loads(settings.model_dump_json()),
                                  "wait_s": None if math.isinf(wait_s) else wait_s}))
    child.stdin.close()
    report = error = None
    for line in child.stdout:
        try:
            message = json.loads(line)
        except ValueError:
            continue  # not ours (a library printing)
        if "progress" in message:
            progress(*message["progress"])
        elif "notify" in message:
            notify(message["notify"])
        report, error = message.get("report", report), message.get("error", error)
    code = child.wait()
    atexit.unregister(child.kill)
    if error is not None or report is None:
        raise BuildFailed(error or f"the index build process ended with exit code {code} (its log is above)")
    return None, IngestReport(**report)


def child_main() -> int:
    """The child's side of ``ingest_in_child``: settings on stdin, JSON lines on stdout."""
    from dataclasses import asdict

    from .ingest import ingest

    # Our lines keep the pipe to themselves: anything else written to stdout goes to stderr.
    channel = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr

    def say(**message: Any) -> None:
        channel.write(json.dumps(message, ensure_ascii=False) + "\n")
        channel.flush()

    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    request = json.load(sys.stdin)
    try:
        _, report = ingest(Settings.model_validate(request["settings"]),
                           progress=lambda done, total: say(progress=[done, total]),
                           wait_s=math.inf if request["wait_s"] is None else request["wait_s"],
                           notify=lambda text: say(notify=text))
    except AssistantError as exc:
        say(error=str(exc))
        return 2
    say(report=asdict(report))
    return 0


class BuildRun:
    """One ``ingest`` in a child process (``ingest_in_child``; tests may pass another ``ingest``), followed by a
    daemon thread, with its progress readable from any thread."""

    def __init__(self, settings: Settings, ingest: Ingest | None = None) -> None:
        self._settings = settings
        self._ingest = ingest or ingest_in_child
        self._lock = threading.Lock()
        self._status = BuildStatus("waiting")
        self._started = time.monotonic()
        self._thread = threading.Thread(target=self._run, name="index-build", daemon=True)

    def start(self) -> BuildRun:
        self._thread.start()
        return self

    @property
    def started(self) -> bool:
        return self._thread.ident is not None

    def status(self) -> BuildStatus:
        with self._lock:
            status = self._status
        if not status.finished:
            return BuildStatus(status.state, status.done, status.total, time.monotonic() - self._started,
                               status.message)
        return status

    def wait(self, timeout: float | None = None) -> BuildStatus:
        self._thread.join(timeout)
        return self.status()

    def _set(self, **changes: Any) -> None:
        with self._lock:
            current = self._status
            self._status = BuildStatus(**{"state": current.state, "done": current.done, "total": current.total,
                                          "elapsed_s": current.elapsed_s, "message": current.message, **changes})

    def _progress(self, done: int, total: int) -> None:
        with self._lock:
            if self._status.state == "waiting":
                self._started = time.monotonic()  # the rate counts embedding, not reading the corpus
        self._set(state="running", done=done, total=total)

    def _run(self) -> None:
        try:
            _, report = self._ingest(self._settings, progress=self._progress, wait_s=math.inf,
                                     notify=lambda text: self._set(message=text))
            log.info("index build done: %s chunks, %s embedded", report.chunks, report.embedded)
            self._set(state="done", done=report.chunks, total=report.chunks, elapsed_s=time.monotonic() - self._started)
        except AssistantError as exc:
            self._set(state="failed", message=str(exc))
        except Exception as exc:  # the page must say it, the server must stay up
            log.exception("index build failed")
            self._set(state="failed", message=f"{type(exc).__name__}: {exc}")


if __name__ == "__main__":
    sys.exit(child_main())

"""Bounded load test of the running chat app through its HTTP API (the ``/respond`` endpoint), on 127.0.0.1.

First every question is asked by a single user: those answers are the reference. Then N concurrent
clients each ask Q questions (cycling through the eval questions); every answer must equal the
single-user answer, and any HTTP or app error counts. Reports throughput and p50/p95/max latency (request
sent -> answer complete, streaming included) per concurrency level.

    # against an app that is already running (icp-assistant serve / python app.py)
    .venv/bin/python benchmarks/load.py --url http://127.0.0.1:7860 --clients 32 --questions 10
    # start `icp-assistant serve` itself on a free port (settings from the environment, e.g. ICP_DATA_DIR),
    # sweep concurrency levels, and report the server's peak RSS
    .venv/bin/python benchmarks/load.py --start --sweep 1,2,4,8,16,32 --questions 10
    # two app processes on one `chroma run` server (index built with --chroma-url first); clients alternate
    CHROMA_HOST=127.0.0.1 CHROMA_PORT=8001 .venv/bin/python benchmarks/load.py --start 2 --clients 32

Exit status 1 when any request failed or any answer differed from the single-user answer.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.evaluation.metrics import percentile

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DATASET = PROJECT_ROOT / "evals" / "datasets" / "faq.jsonl"
MODE = "Extractive (quotes the corpus)"
TIMEOUT_S = 120


def ask(base: str, question: str, session: str | None = None) -> tuple[Any, float]:
    """One question through the queue API; returns (final outputs, seconds). Raises on any error event.
    ``session``: the client's session hash, so one simulated user is one chat session (as in a browser tab)
    rather than a new session per question."""
    started = time.perf_counter()
    body = json.dumps({"data": [question, [], "Auto", "", MODE],
                       **({"session_hash": session} if session else {})}).encode()
    request = urllib.request.Request(f"{base}/gradio_api/call/respond", data=body,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
        event_id = json.loads(response.read())["event_id"]
    event = ""
    with urllib.request.urlopen(f"{base}/gradio_api/call/respond/{event_id}", timeout=TIMEOUT_S) as stream:
        for raw in stream:
            line = raw.decode("utf-8").rstrip("\n")
            if line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:") and event == "complete":
                return final_answer(json.loads(line[5:])), time.perf_counter() - started
            elif line.startswith("data:") and event == "error":
                raise RuntimeError(f"app error event: {line[5:].strip()[:300]}")
    raise RuntimeError("stream ended without a complete event")


def final_answer(outputs: list[Any]) -> Any:
    """What a user sees: the last chat message, the sources panel and the ticket text."""
    chat, sources, ticket = outputs[0], outputs[1], outputs[2]
    if not chat or chat[-1].get("role") != "assistant":
        raise RuntimeError(f"no assistant message in the reply: {str(chat)[:300]}")
    content = chat[-1]["content"]
    if isinstance(content, str) and content.startswith("⚠️"):
        raise RuntimeError(f"the app answered with an error: {content[:300]}")
    return [content, sources, ticket]


@dataclass
class Level:
    clients: int
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    mismatches: int = 0
    seconds: float = 0.0

    @property
    def answered(self) -> int:
        return len(self.latencies)

    def row(self) -> str:
        worst = max(self.latencies, default=float("nan"))
        return (f"| {self.clients} | {self.answered} | {len(self.errors)} | {self.mismatches} | "
                f"{self.answered / self.seconds:.1f} | {percentile(self.latencies, 50) * 1000:.0f} | "
                f"{self.p95() * 1000:.0f} | {worst * 1000:.0f} |")

    def p95(self) -> float:
        return percentile(self.latencies, 95) if self.latencies else float("inf")



def run_level(bases: list[str], questions: list[str], reference: dict[str, Any], clients: int,
              per_client: int, think_s: float = 0.0) -> Level:
    """``clients`` concurrent clients, client i on app ``bases[i % len(bases)]``; each waits a random think time
    (exponential, mean ``think_s``; 0 = none) before every question, as a person reading the last answer would."""
    level = Level(clients)
    lock = threading.Lock()
    start_gate = threading.Barrier(clients)

    def client(index: int) -> None:
        rng = random.Random(index)
        start_gate.wait()
        for k in range(per_client):
            if think_s:
                time.sleep(rng.expovariate(1 / think_s))
            question = questions[(index * per_client + k) % len(questions)]
            try:
                answer, seconds = ask(bases[index % len(bases)], question, f"load-{clients}-{index}")
            except (OSError, RuntimeError, ValueError, urllib.error.URLError) as exc:
                with lock:
                    level.errors.append(f"{type(exc).__name__}: {exc}")
                continue
            with lock:
                level.latencies.append(seconds)
                level.mismatches += answer != reference[question]

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        list(pool.map(client, range(clients)))
    level.seconds = time.perf_counter() - started
    return level


def load_questions(limit: int) -> list[str]:
    lines = DATASET.read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["user_input"] for line in lines if line.strip()][:limit]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(port: int) -> subprocess.Popen[bytes]:
    command = [str(Path(sys.executable).parent / "icp-assistant"), "serve", "--host", "127.0.0.1", "--port", str(port)]
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "ANONYMIZED_TELEMETRY": "False"}
    proc = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the app exited: {proc.stderr.read().decode(errors='replace')[-2000:]}")  # type: ignore[union-attr]
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2):
                return proc
        except OSError:
            time.sleep(0.5)
    proc.terminate()
    raise RuntimeError("the app did not answer within 180 s")


def rss_mb(pid: int, key: str = "VmHWM") -> float:
    """``VmHWM``: the peak RSS so far (start-up included); ``VmRSS``: the RSS now."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{key}:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--url", action="append", help="base URL of a running app, e.g. http://127.0.0.1:7860 "
                        "(repeatable: clients alternate between the apps)")
    target.add_argument("--start", nargs="?", type=int, const=1, metavar="N",
                        help="start N `icp-assistant serve` processes on free ports (default 1)")
    parser.add_argument("--clients", type=int, default=32, help="concurrent clients (ignored with --sweep)")
    parser.add_argument("--sweep", help="comma-separated concurrency levels, e.g. 1,2,4,8,16,32")
    parser.add_argument("--questions", type=int, default=10, help="questions per client")
    parser.add_argument("--distinct", type=int, default=40, help="distinct eval questions used")
    parser.add_argument("--think", type=float, default=0.0, metavar="SECONDS",
                        help="mean think time before each question (exponential; default 0: back to back)")
    args = parser.parse_args(argv)
    if any(not url.startswith(("http://127.0.0.1", "http://localhost")) for url in args.url or []):
        parser.error("load tests only run against this machine (http://127.0.0.1:PORT)")

    servers: list[subprocess.Popen[bytes]] = []
    ready_peak: dict[int, float] = {}
    bases = [url.rstrip("/") for url in args.url or []]
    try:
        for _ in range(args.start or 0):
            port = free_port()
            servers.append(start_server(port))
            ready_peak[servers[-1].pid] = rss_mb(servers[-1].pid)
            bases.append(f"http://127.0.0.1:{port}")
        questions = load_questions(args.distinct)
        started = time.perf_counter()
        reference = {q: ask(bases[0], q)[0] for q in questions}  # single user, one question at a time
        for other in bases[1:]:  # every app must give the same answers
            differing = [q for q in questions if ask(other, q)[0] != reference[q]]
            if differing:
                print(f"{other} answers {len(differing)} questions differently from {bases[0]}", file=sys.stderr)
        print(f"single-user pass: {len(questions)} questions in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        levels = [int(x) for x in args.sweep.split(",")] if args.sweep else [args.clients]
        results = []
        for clients in levels:
            level = run_level(bases, questions, reference, clients, args.questions, args.think)
            results.append(level)
            print(f"{clients} clients done: {level.answered} answers, {len(level.errors)} errors", file=sys.stderr)
        print("| clients | answers | errors | differing answers | answers/s | p50 ms | p95 ms | max ms |")
        print("|---|---|---|---|---|---|---|---|")
        for level in results:
            print(level.row())
        within = [lv.clients for lv in results if lv.p95() <= 1.5 and not lv.errors and not lv.mismatches]
        print(f"\nlargest level with p95 <= 1.5 s and no errors: {max(within) if within else 'none'} concurrent "
              f"clients ({len(bases)} app process(es))")
        for server in servers:
            print(f"app process {server.pid}: peak RSS {rss_mb(server.pid):.0f} MB (when it was ready: "
                  f"{ready_peak[server.pid]:.0f} MB), RSS after the load {rss_mb(server.pid, 'VmRSS'):.0f} MB")
        for level in results:
            for error in level.errors[:5]:
                print(f"error ({level.clients} clients): {error}", file=sys.stderr)
        return 1 if any(lv.errors or lv.mismatches for lv in results) else 0
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    sys.exit(main())

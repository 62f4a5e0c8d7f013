"""The regression gate: the full configuration on the test split must meet evals/thresholds.json, and a
fresh run must equal the committed baseline (evals/baseline/full.jsonl) item for item.

Builds (or reuses) the index in the default data dir (or ICP_DATA_DIR), answers every test item, writes
the results file next to the other eval results and asserts every metric is within its limit. An item that
moved against the baseline means either a change that was not followed by `eval --save-baseline`, or an
index or answer path that is not reproducible: both are failures an evaluator must see.
"""

from __future__ import annotations

from datetime import date

import pytest

from assistant.evaluation.gate import check_thresholds, load_thresholds
from assistant.evaluation.report import diff_items
from assistant.evaluation.runner import (
    BASELINE_DIR,
    DEFAULT_DATASET,
    RESULTS_DIR,
    THRESHOLDS_FILE,
    dev_items,
    load_items,
    read_baseline,
    results_path,
    run_config,
    summarize,
    write_results,
)
from assistant.ingest import ingest
from assistant.settings import Settings

pytestmark = [pytest.mark.eval, pytest.mark.slow]


@pytest.mark.timeout(3600)
def test_full_config_meets_thresholds_on_the_test_split() -> None:
    settings = Settings.from_env()
    ingest(settings)
    all_items = load_items(DEFAULT_DATASET)
    items = [i for i in all_items if i.tags.split == "test"]
    results = run_config(settings, items, "full", calibration_items=dev_items(all_items))
    write_results(results, results_path(RESULTS_DIR, date.today().isoformat(), "full", "test"))
    failures = check_thresholds(summarize(results), results, load_thresholds(THRESHOLDS_FILE)["metrics"])
    assert not failures, "eval gate failed:\n" + "\n".join(failures)
    baseline = read_baseline(BASELINE_DIR, "full")
    assert baseline is not None, "evals/baseline/full.jsonl is missing: run `icp-assistant eval --save-baseline`"
    moved = [f"{d.id} {d.status}: gained {list(d.gained)}, resolved {list(d.resolved)}"
             for d in diff_items(baseline, results) if d.status != "unchanged"]
    assert not moved, "the fresh run differs from the committed baseline:\n" + "\n".join(moved)

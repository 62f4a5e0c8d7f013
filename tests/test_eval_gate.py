"""The regression gate: the full configuration on the test split must meet evals/thresholds.json.

Builds (or reuses) the index in the default data dir (or ICP_DATA_DIR), answers every test item, writes
the results file next to the other eval results and asserts every metric is within its limit.
"""

from __future__ import annotations

from datetime import date

import pytest

from assistant.evaluation.gate import check_thresholds, load_thresholds
from assistant.evaluation.runner import (
    DEFAULT_DATASET,
    RESULTS_DIR,
    THRESHOLDS_FILE,
    dev_items,
    load_items,
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

"""Regime finder: which filings and licences a scenario needs, from the decision model ``corpus/regime.yml``.

Public API::

    model = load_regime_model(DEFAULT_MODEL_PATH)            # RegimeModelError if malformed
    result = find_regime(question, overrides, model)         # RegimeResult; RegimeInputError on a bad override
    is_scenario(question)                                    # situation + "what do I need" vs one-rule question
    asks_what_is_needed(question)                            # "what do we need" / "需要办什么"
    regime_markdown(result) / regime_text(result) / regime_json(result)

Stages (one module each): ``model`` (schema, loader) -> ``facts`` (question -> facts) -> ``engine``
(facts -> outcomes) -> ``finder`` (what-ifs, follow-up) -> ``render``; ``citations`` labels and checks sources.
"""

from assistant.settings import PROJECT_ROOT

from .citations import check_citations
from .engine import evaluate, statuses
from .facts import extract_facts
from .finder import asks_what_is_needed, find_regime, is_scenario
from .model import RegimeModel, Status, load_regime_model
from .records import Change, Cite, FactSource, FactValue, FollowUp, Option, Outcome, RegimeResult, StatusChange
from .render import regime_json, regime_markdown, regime_text

DEFAULT_MODEL_PATH = PROJECT_ROOT / "corpus" / "regime.yml"

__all__ = [
    "DEFAULT_MODEL_PATH", "Change", "Cite", "FactSource", "FactValue", "FollowUp", "Option", "Outcome",
    "RegimeModel", "RegimeResult", "Status", "StatusChange", "asks_what_is_needed", "check_citations", "evaluate",
    "extract_facts", "find_regime", "is_scenario", "load_regime_model", "regime_json", "regime_markdown",
    "regime_text", "statuses",
]

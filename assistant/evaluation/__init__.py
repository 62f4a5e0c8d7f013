"""Evaluation: the question set loader (``dataset``) and pure metric functions (``metrics``).

The runner and the report build on these two modules; neither imports the retriever or the composer.
"""

from assistant.evaluation.dataset import ContextRef, DatasetError, EvalItem, ItemTags, load_dataset

__all__ = ["ContextRef", "DatasetError", "EvalItem", "ItemTags", "load_dataset"]

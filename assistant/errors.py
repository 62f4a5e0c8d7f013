"""Small, named exceptions. The library raises them; the CLI and the app turn them into messages."""


class AssistantError(Exception):
    """Base class: every error the library raises on purpose."""


class ConfigError(AssistantError):
    """A setting is invalid (message lists the allowed values)."""


class CorpusError(AssistantError):
    """A corpus file or root cannot be used (message names the path and the problem)."""


class IndexMissingError(AssistantError):
    """No index has been built yet (message gives the command that builds it)."""


class IndexMismatchError(AssistantError):
    """The index was built with another embedding model or format (message says how to re-ingest)."""


class IndexCorruptError(AssistantError):
    """The index cannot be read (message says how to rebuild it)."""


class StoreUnavailableError(AssistantError):
    """The Chroma server cannot be reached."""


class IndexWriteError(AssistantError):
    """Writing a new index generation failed (disk full, store read-only); the previous one keeps answering."""


class IndexBusyError(AssistantError):
    """Another ingest holds the index lease (message names the holder and says to use --wait or retry)."""

    def __init__(self, message: str, holder: object = None) -> None:
        super().__init__(message)
        self.holder = holder  # the lease.LeaseRecord of the other ingest, when known


class LeaseLostError(IndexBusyError):
    """This ingest's lease expired and another ingest took it over; it stopped before changing the index."""


class FeedbackError(AssistantError):
    """Feedback cannot be stored or exported (message names the path and the problem)."""


class RegimeModelError(AssistantError):
    """``corpus/regime.yml`` is malformed (message names the file, the rule or fact, and the field)."""


class RegimeInputError(AssistantError):
    """A fact given to the regime finder is unknown or has a value it does not allow (message lists them)."""

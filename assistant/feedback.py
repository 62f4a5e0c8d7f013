"""Durable like/dislike feedback: one SQLite file in the data directory, one transaction per record.

The app adds a record per click; ``icp-assistant feedback export`` writes them out as CSV or JSON lines.
"""

from __future__ import annotations

import csv
import json
import os
import sqlite3
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .errors import FeedbackError
from .settings import Settings

FEEDBACK_FILE = "feedback.sqlite3"
RATINGS = ("like", "dislike")
EXPORT_FORMATS = ("csv", "jsonl")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at TEXT NOT NULL,
    rating TEXT NOT NULL CHECK (rating IN ('like', 'dislike')),
    comment TEXT NOT NULL DEFAULT '',
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    citations TEXT NOT NULL,
    mode TEXT NOT NULL DEFAULT '',
    corpus_version TEXT NOT NULL DEFAULT '',
    language TEXT NOT NULL DEFAULT '',
    as_of TEXT NOT NULL DEFAULT '',
    user_name TEXT
)
"""
# Columns added after the first release: (name, definition). Older files get them on open.
_MIGRATIONS = (("user_name", "TEXT"),)


@dataclass(frozen=True, kw_only=True)
class FeedbackRecord:
    """One stored like/dislike. ``citations`` is the answer's citation list (JSON in the database)."""

    id: int
    created_at: str  # ISO 8601, UTC
    rating: str
    comment: str
    question: str
    answer: str
    citations: list[dict[str, Any]]
    mode: str
    corpus_version: str
    language: str
    as_of: str
    user_name: str | None = None  # who rated, when the app knows (login or proxy header); None on an open app


class FeedbackStore:
    """Feedback records in one SQLite file; a fresh connection per call keeps it safe across threads."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._connect() as conn:
                _create_or_migrate(conn)
        except (OSError, sqlite3.Error) as exc:
            raise FeedbackError(f"Cannot open the feedback store {self.path}: {exc}") from exc

    @classmethod
    def from_settings(cls, settings: Settings) -> FeedbackStore:
        return cls(settings.data_dir / FEEDBACK_FILE)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        conn = sqlite3.connect(self.path, timeout=10)
        try:
            with conn:  # commits on success, rolls back on error: one record is all or nothing
                yield conn
        finally:
            conn.close()

    def add(
        self,
        *,
        rating: str,
        question: str,
        answer: str,
        citations: Sequence[dict[str, Any]] = (),
        mode: str = "",
        corpus_version: str = "",
        comment: str = "",
        language: str = "",
        as_of: str = "",
        user_name: str | None = None,
    ) -> FeedbackRecord:
        """Store one record in its own transaction and return it with its id."""
        if rating not in RATINGS:
            raise FeedbackError(f"Unknown rating. Expected one of: {', '.join(RATINGS)}. Got: {rating!r}")
        created_at = datetime.now(UTC).isoformat(timespec="seconds")
        values = (created_at, rating, comment.strip(), question, answer,
                  json.dumps(list(citations), ensure_ascii=False), mode, corpus_version, language, as_of, user_name)
        try:
            with self._connect() as conn:
                cur = conn.execute(
                    "INSERT INTO feedback (created_at, rating, comment, question, answer, citations, mode, "
                    "corpus_version, language, as_of, user_name) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    values,
                )
                row_id = cur.lastrowid
        except sqlite3.Error as exc:
            raise FeedbackError(f"Cannot store feedback in {self.path}: {exc}") from exc
        assert row_id is not None
        return FeedbackRecord(id=row_id, created_at=created_at, rating=rating, comment=comment.strip(),
                              question=question, answer=answer, citations=list(citations), mode=mode,
                              corpus_version=corpus_version, language=language, as_of=as_of, user_name=user_name)

    def all(self) -> list[FeedbackRecord]:
        """Every record, oldest first."""
        try:
            with self._connect() as conn:
                conn.row_factory = sqlite3.Row
                rows = conn.execute("SELECT * FROM feedback ORDER BY id").fetchall()
        except sqlite3.Error as exc:
            raise FeedbackError(f"Cannot read the feedback store {self.path}: {exc}") from exc
        return [FeedbackRecord(**{**dict(row), "citations": json.loads(row["citations"])}) for row in rows]

    def export(self, path: Path | str, fmt: str = "csv", *, forbidden: Iterable[Path] = ()) -> int:
        """Write every record to ``path`` as CSV or JSON lines; returns the number of records written.

        Refuses a directory, a missing parent directory, the store itself and anything inside
        ``forbidden`` (the corpus roots: exports must not land in indexed text).
        """
        target = Path(path)
        _check_target(target, fmt, [self.path, *forbidden])
        records = self.all()
        # Write next to the target, then rename: a reader never sees half a file.
        fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        try:
            # utf-8-sig for CSV so spreadsheet programs show Chinese text correctly.
            encoding = "utf-8-sig" if fmt == "csv" else "utf-8"
            with os.fdopen(fd, "w", encoding=encoding, newline="") as out:
                if fmt == "csv":
                    _write_csv(out, records)
                else:
                    for record in records:
                        out.write(json.dumps(asdict(record), ensure_ascii=False) + "\n")
            os.replace(tmp_name, target)
        except OSError as exc:
            Path(tmp_name).unlink(missing_ok=True)
            raise FeedbackError(f"Cannot write the feedback export {target}: {exc}") from exc
        return len(records)


def _create_or_migrate(conn: sqlite3.Connection) -> None:
    """Create the table, or add the columns a file from an older version lacks.

    ``BEGIN IMMEDIATE`` takes the write lock before looking: two processes opening an old file at once
    cannot both decide to add the same column.
    """
    conn.execute("BEGIN IMMEDIATE")
    conn.execute(_SCHEMA)
    present = {row[1] for row in conn.execute("PRAGMA table_info(feedback)")}
    for name, definition in _MIGRATIONS:
        if name not in present:
            conn.execute(f"ALTER TABLE feedback ADD COLUMN {name} {definition}")


def _write_csv(out: Any, records: list[FeedbackRecord]) -> None:
    columns = [name for name in FeedbackRecord.__dataclass_fields__]
    writer = csv.DictWriter(out, fieldnames=columns)
    writer.writeheader()
    for record in records:
        row = asdict(record)
        row["citations"] = json.dumps(row["citations"], ensure_ascii=False)
        writer.writerow(row)


def _check_target(target: Path, fmt: str, protected: list[Path]) -> None:
    if fmt not in EXPORT_FORMATS:
        raise FeedbackError(f"Unknown export format. Expected one of: {', '.join(EXPORT_FORMATS)}. Got: {fmt!r}")
    if target.is_dir():
        raise FeedbackError(f"The export target is a directory; give a file name, e.g. {target / ('feedback.' + fmt)}")
    if not target.parent.is_dir():
        raise FeedbackError(f"The export target's directory does not exist: {target.parent}")
    resolved = target.resolve()
    for path in protected:
        guarded = Path(path).resolve()
        if resolved == guarded or resolved.is_relative_to(guarded):
            raise FeedbackError(f"Refusing to export feedback to {target}: it is inside {path} "
                                "(a corpus directory or the feedback store itself). Choose another path.")

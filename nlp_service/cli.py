"""Command line: ``nlp-service enrich | detect | transcribe | serve``.

The evaluation tools drive ``enrich --jsonl`` / ``detect --jsonl`` / ``transcribe``: one JSON
result per input line on stdout, in input order. A bad line yields an error object for that
line (``{"id", "error": {"code", "detail"}}``) and the exit code is 1 at the end; nothing is
dropped and no traceback is printed. Progress goes to stderr (a bar on a terminal).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from pydantic import ValidationError

from nlp_service.errors import NlpServiceError, from_ingest
from nlp_service.settings import Settings, get_settings

__all__ = ["main"]

logger = logging.getLogger("nlp_service.cli")


def _dump(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def _validation_detail(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        loc = ".".join(str(x) for x in err.get("loc", ()))
        parts.append(f"{loc}: {err.get('msg')}" if loc else str(err.get("msg")))
    return "; ".join(parts)


class _Progress:
    """A tqdm bar on a terminal; otherwise a line every 10% for long batches."""

    def __init__(self, total: int | None, label: str) -> None:
        self.total = total
        self.label = label
        self.done = 0
        self._bar = None
        self._next_pct = 10
        if sys.stderr.isatty() and total and total > 1:
            try:
                from tqdm import tqdm

                self._bar = tqdm(total=total, desc=label, file=sys.stderr, unit="item")
            except ImportError:  # pragma: no cover
                self._bar = None

    def step(self) -> None:
        self.done += 1
        if self._bar is not None:
            self._bar.update(1)
        elif self.total and self.total >= 50:
            pct = 100 * self.done // self.total
            if pct >= self._next_pct:
                print(f"{self.label}: {self.done}/{self.total} ({pct}%)", file=sys.stderr, flush=True)
                self._next_pct = pct - pct % 10 + 10

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def _read_lines(path: str) -> tuple[list[str], int]:
    if path == "-":
        lines = sys.stdin.read().splitlines()
    else:
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            raise SystemExit(f"nlp-service: cannot read {path}: {exc.strerror}") from None
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise SystemExit(f"nlp-service: {path} is not UTF-8 JSON Lines") from None
        lines = text.splitlines()
    return lines, sum(1 for x in lines if x.strip())


def _iter_objects(lines: list[str]) -> Iterator[tuple[int, dict[str, Any] | None, dict[str, Any] | None]]:
    """Yield (line_no, object, error) for each non-empty line."""
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            yield n, None, {"code": "malformed-json", "detail": f"line {n}: {exc.msg} at column {exc.colno}",
                            "line": n}
            continue
        if not isinstance(obj, dict):
            yield n, None, {"code": "invalid-input", "detail": f"line {n}: expected a JSON object", "line": n}
            continue
        yield n, obj, None


def _guess_id(line: str) -> Any:
    try:
        obj = json.loads(line)
        return obj.get("id") if isinstance(obj, dict) else None
    except json.JSONDecodeError:
        import re

        m = re.search(r'"id"\s*:\s*"([^"]{1,200})"', line)
        return m.group(1) if m else None


def _cmd_enrich(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    from nlp_service.interactions import to_input
    from nlp_service.model_registry import ModelRegistry
    from nlp_service.record import to_record_json
    from nlp_service.schemas import InteractionIn
    from pipelines.ingest import IngestError

    registry = ModelRegistry(settings)
    try:
        registry.pipeline.get()
    except Exception as exc:  # noqa: BLE001 - a broken install/lexicon is one clear message, not N line errors
        print(f"nlp-service: cannot load the text pipeline: {exc}", file=sys.stderr)
        return 2
    failures = 0

    def run_one(obj: dict[str, Any]) -> dict[str, Any]:
        model = InteractionIn.model_validate(obj)
        item = to_input(model, tz_name=settings.timezone)
        return to_record_json(registry.pipeline.get().enrich(item))

    if args.file:
        path = Path(args.file)
        try:
            raw = path.read_bytes()
        except OSError as exc:
            print(f"nlp-service: cannot read {path}: {exc.strerror}", file=sys.stderr)
            return 2
        fmt = args.format or {".eml": "eml", ".jsonl": "wechat_archive_jsonl"}.get(path.suffix.lower(), "plain")
        channel = args.channel or {"eml": "email", "wechat_archive_jsonl": "wechat", "wechat_text": "wechat",
                                   "call_transcript": "call"}.get(fmt, "other")
        from zoneinfo import ZoneInfo

        from pipelines.ingest import decode_text
        from pipelines.ingest.mail import message_date

        when = args.occurred_at
        if not when and fmt == "eml":
            date = message_date(raw)
            when = date.isoformat() if date else None
        obj = {"id": args.id or path.stem, "channel": channel, "format": fmt,
               "customer_id": args.customer_id or "unknown",
               "occurred_at": when or datetime.now(ZoneInfo(settings.timezone)).isoformat(timespec="seconds"),
               "content": ""}
        try:
            content: str | bytes = raw if fmt == "eml" else decode_text(raw)
        except IngestError as exc:
            print(_dump({"id": obj["id"], "interaction_id": obj["id"], "error": from_ingest(exc).to_dict()}), file=out)
            return 1
        obj["content"] = content if isinstance(content, str) else ""
        try:
            model = InteractionIn.model_validate(obj)
            item = to_input(model, tz_name=settings.timezone, raw=content)
            print(_dump(to_record_json(registry.pipeline.get().enrich(item))), file=out)
            return 0
        except ValidationError as exc:
            err = {"code": "invalid-input", "detail": _validation_detail(exc)}
        except IngestError as exc:
            err = from_ingest(exc).to_dict()
        except NlpServiceError as exc:
            err = exc.to_dict()
        print(_dump({"id": obj["id"], "interaction_id": obj["id"], "error": err}), file=out)
        return 1

    lines, total = _read_lines(args.jsonl)
    progress = _Progress(total, "enrich")
    for n, obj, err in _iter_objects(lines):
        ident = obj.get("id") if obj else _guess_id(lines[n - 1])
        if err is None and obj is not None:
            try:
                print(_dump(run_one(obj)), file=out, flush=False)
                progress.step()
                continue
            except ValidationError as exc:
                err = {"code": "invalid-input", "detail": f"line {n}: {_validation_detail(exc)}", "line": n}
            except IngestError as exc:
                e = from_ingest(exc)
                err = {**e.to_dict(), "detail": f"line {n}: {e.detail}", "input_line": n}
            except NlpServiceError as exc:
                err = {**exc.to_dict(), "input_line": n}
            except Exception as exc:  # noqa: BLE001 - one broken item must not lose the others
                logger.exception("enrich failed on line %d", n)
                err = {"code": "internal-error", "detail": f"line {n}: {type(exc).__name__}", "input_line": n}
        failures += 1
        print(_dump({"id": ident, "interaction_id": ident, "error": err}), file=out)
        progress.step()
    progress.close()
    out.flush()
    if failures:
        print(f"nlp-service enrich: {failures} of {total} lines failed (see their error objects)", file=sys.stderr)
    return 1 if failures else 0


def _cmd_detect(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    from nlp_service.model_registry import ModelRegistry
    from nlp_service.schemas import DetectIn

    try:
        pipeline = ModelRegistry(settings).pipeline.get()
    except Exception as exc:  # noqa: BLE001
        print(f"nlp-service: cannot load the text pipeline: {exc}", file=sys.stderr)
        return 2
    lines, total = _read_lines(args.jsonl)
    progress = _Progress(total, "detect")
    failures = 0
    for n, obj, err in _iter_objects(lines):
        ident = obj.get("id") if obj else _guess_id(lines[n - 1])
        if err is None and obj is not None:
            try:
                row = DetectIn.model_validate(obj)
                (signals,) = pipeline.detect_texts([(row.text, row.speaker)], channel=args.channel)
                print(_dump({"id": row.id, "risk_signals": [
                    {"category": s.category, "quote": s.quote, "speaker": s.speaker, "start": s.start,
                     "end": s.end, "confidence": round(s.confidence, 3), "severity": s.severity,
                     "method": s.method, "entry_id": s.entry_id} for s in signals]}), file=out)
                progress.step()
                continue
            except ValidationError as exc:
                err = {"code": "invalid-input", "detail": f"line {n}: {_validation_detail(exc)}", "line": n}
            except Exception as exc:  # noqa: BLE001
                logger.exception("detect failed on line %d", n)
                err = {"code": "internal-error", "detail": f"line {n}: {type(exc).__name__}", "line": n}
        failures += 1
        print(_dump({"id": ident, "error": err}), file=out)
        progress.step()
    progress.close()
    return 1 if failures else 0


def _cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from nlp_service.main import create_app

    if args.workers > 1:
        # Several processes: uvicorn imports the factory in each (settings come from the environment).
        uvicorn.run("nlp_service.main:create_app", factory=True, host=args.host, port=args.port, log_config=None,
                    workers=args.workers, timeout_graceful_shutdown=30, access_log=False)
        return 0
    app = create_app(settings)
    uvicorn.run(app, host=args.host, port=args.port, log_config=None, timeout_graceful_shutdown=30,
                access_log=False)
    return 0


def _cmd_keys(args: argparse.Namespace, settings: Settings) -> int:
    from nlp_service.store import Store
    from nlp_service.tenants import create_key, list_keys, revoke_key

    store = Store(settings.database_url)
    try:
        if args.keys_command == "create":
            key = create_key(store, args.tenant, args.label)
            print(_dump({"tenant": args.tenant, "key": key, "note": "shown once; only its hash is stored"}))
        elif args.keys_command == "revoke":
            if not revoke_key(store, args.key_id):
                print(f"nlp-service: no active key {args.key_id}", file=sys.stderr)
                return 1
            print(_dump({"revoked": args.key_id}))
        else:
            for row in list_keys(store, args.tenant):
                print(_dump(row))
    finally:
        store.close()
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nlp-service", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("enrich", help="enrich interactions into draft CRM records")
    p.add_argument("file", nargs="?", help="one raw file (e.g. an .eml) instead of --jsonl")
    p.add_argument("--jsonl", help="JSON Lines of interactions ('-' for stdin)")
    p.add_argument("--format", choices=["wechat_archive_jsonl", "wechat_text", "eml", "call_transcript", "plain"])
    p.add_argument("--channel", choices=["wechat", "email", "call", "meeting", "other"])
    p.add_argument("--id")
    p.add_argument("--customer-id")
    p.add_argument("--occurred-at", help="ISO 8601; default: now (e-mails use their Date header)")

    p = sub.add_parser("detect", help="detect risk signals in single utterances")
    p.add_argument("--jsonl", required=True, help="JSON Lines of {id, text, speaker} ('-' for stdin)")
    p.add_argument("--channel", default="other", help="call/meeting turns on the homophone pass")

    p = sub.add_parser("serve", help="run the HTTP service")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--workers", type=int, default=1, help="server processes (each with its own job workers)")

    p = sub.add_parser("keys", help="manage tenants' API keys (NLP_SECURITY__REQUIRE_API_KEY=true)")
    keys = p.add_subparsers(dest="keys_command", required=True)
    k = keys.add_parser("create", help="create a key for a tenant (printed once)")
    k.add_argument("--tenant", required=True)
    k.add_argument("--label")
    k = keys.add_parser("revoke", help="revoke a key by its id (the part after 'nlp_')")
    k.add_argument("key_id")
    k = keys.add_parser("list", help="list keys (ids only)")
    k.add_argument("--tenant")

    try:
        from nlp_service import transcribe_cli
    except ImportError:  # pragma: no cover - ASR extras missing
        transcribe_cli = None  # type: ignore[assignment]
    if transcribe_cli is not None:
        transcribe_cli.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "enrich" and not args.file and not args.jsonl:
        parser.error("enrich needs --jsonl IN or a FILE")
    try:
        settings = get_settings()
    except ValidationError as exc:
        print(f"nlp-service: bad configuration: {_validation_detail(exc)}", file=sys.stderr)
        return 2
    from nlp_service.logging_config import configure_logging

    configure_logging(settings, cli=args.command != "serve")
    try:
        if args.command == "enrich":
            return _cmd_enrich(args, settings, sys.stdout)
        if args.command == "detect":
            return _cmd_detect(args, settings, sys.stdout)
        if args.command == "serve":
            return _cmd_serve(args, settings)
        if args.command == "keys":
            return _cmd_keys(args, settings)
        if args.command == "transcribe":
            from nlp_service import transcribe_cli

            return transcribe_cli.run(args, settings)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    parser.error(f"unknown command {args.command}")
    return 2


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())

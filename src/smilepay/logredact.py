"""Log redaction: no secret, name or phone hash reaches a log line, tracebacks included.

SQLAlchemy is told not to put statement parameters into its errors (``hide_parameters`` in
``adapters.sql.engine``), but a database's own message still quotes values (PostgreSQL's
``DETAIL: Key (phone_hash)=(...) already exists``, ``Failing row contains (...)``), and a
traceback shows whatever a frame held. ``install_log_redaction`` wraps the log record factory,
so every record, from any logger and to any handler (uvicorn's included), is redacted when it
is made: the message template and each argument are scrubbed (numbers kept as they are, the
arguments' shape kept for formatters that unpack them), and a traceback is rendered to text,
scrubbed and kept in ``exc_text`` in place of the live exception.
"""

from __future__ import annotations

import logging
import re
import threading
import traceback
from collections.abc import Mapping
from typing import Any

REDACTED = "[redacted]"
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # API keys, wallet session tokens, webhook secrets: keep the kind, drop the secret part
    (re.compile(r"\b((?:sk|tk|rk)_(?:test|live)_)[A-Za-z0-9]+"), r"\1" + REDACTED),
    (re.compile(r"\b(ws_)[A-Za-z0-9_\-]{6,}"), r"\1" + REDACTED),
    (re.compile(r"\b(whsec_)[A-Za-z0-9+/=]+"), r"\1" + REDACTED),
    # SQLAlchemy's parameter list (names, emails, hashes, encrypted phones)
    (re.compile(r"\[parameters: .*?\](?=\s*(?:\n|\(Background|$))", re.DOTALL),
     "[parameters: " + REDACTED + "]"),
    # PostgreSQL's DETAIL lines quote the values of the row or key
    (re.compile(r"(Key \([^)]*\)=\().*?(\) already exists|\) is not present)"),
     r"\1" + REDACTED + r"\2"),
    (re.compile(r"(Failing row contains \().*(\))"), r"\1" + REDACTED + r"\2"),
    # hex digests (phone and key hashes) and phone numbers
    (re.compile(r"\b[0-9a-f]{40,128}\b"), REDACTED),
    (re.compile(r"\+\d[\d \-]{6,18}\d"), REDACTED),
)
_lock = threading.Lock()
_installed = False


def redact(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def _redact_arg(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float):
        return value  # numbers keep their %d / %.2f formatting
    return redact(value if isinstance(value, str) else str(value))


def redact_record(record: logging.LogRecord) -> logging.LogRecord:
    """The record with its message template and each argument redacted, keeping the
    arguments' shape (formatters such as uvicorn's access log unpack them)."""
    if isinstance(record.msg, str):
        record.msg = redact(record.msg)
    elif record.msg is not None and not isinstance(record.msg, bool | int | float):
        record.msg = redact(str(record.msg))
    if isinstance(record.args, tuple):
        record.args = tuple(_redact_arg(a) for a in record.args)
    elif isinstance(record.args, Mapping):
        record.args = {k: _redact_arg(v) for k, v in record.args.items()}
    if record.exc_info and record.exc_info[0] is not None:
        rendered = "".join(traceback.format_exception(*record.exc_info))
        record.exc_text = redact(rendered.rstrip("\n"))
        record.exc_info = None
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
    return record


def install_log_redaction() -> None:
    """Redact every log record made in this process from now on (idempotent)."""
    global _installed
    with _lock:
        if _installed:
            return
        previous = logging.getLogRecordFactory()

        def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            return redact_record(previous(*args, **kwargs))

        logging.setLogRecordFactory(factory)
        _installed = True

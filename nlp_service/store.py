"""Persistence: SQLAlchemy 2 over SQLite (embedded default) or PostgreSQL.

Every row carries a ``tenant`` and every query filters on it, so one tenant can never read
another's data through this layer. Writes for one request happen in one transaction: a request
that fails stores nothing half-written.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import json
import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Float,
    Index,
    Integer,
    String,
    Text,
    bindparam,
    create_engine,
    event,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker
from sqlalchemy.types import TypeDecorator

__all__ = [
    "Base",
    "InteractionRow",
    "SyncRow",
    "Store",
    "StoredInteraction",
    "content_digest",
    "utcnow",
]

logger = logging.getLogger(__name__)


def utcnow() -> datetime:
    return datetime.now(UTC)


def content_digest(content: str | bytes, extra: Any = None) -> str:
    h = hashlib.sha256(content.encode("utf-8", "surrogateescape") if isinstance(content, str) else content)
    if extra is not None:
        h.update(json.dumps(extra, sort_keys=True, ensure_ascii=False, default=str).encode())
    return h.hexdigest()


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware datetimes on every backend: stored in UTC, read back aware (SQLite drops offsets)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class InteractionRow(Base):
    __tablename__ = "interactions"

    tenant: Mapped[str] = mapped_column(String(100), primary_key=True)
    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), index=True)
    customer_id: Mapped[str] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(20))
    format: Mapped[str] = mapped_column(String(40))
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime())
    occurred_at_text: Mapped[str] = mapped_column(String(40))
    content: Mapped[str] = mapped_column(Text)
    digest: Mapped[str] = mapped_column(String(64))
    team: Mapped[str | None] = mapped_column(String(200), nullable=True)
    region: Mapped[str | None] = mapped_column(String(200), nullable=True)
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)

    __table_args__ = (Index("ix_interactions_customer", "tenant", "customer_id", "occurred_at"),)


class SyncRow(Base):
    """The last sync point of a customer: interactions with a higher ``seq`` are new."""

    __tablename__ = "customer_sync"

    tenant: Mapped[str] = mapped_column(String(100), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    last_seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), default=0)
    synced_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    draft: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class SeqRow(Base):
    """A portable monotonic counter (SQLite and PostgreSQL alike)."""

    __tablename__ = "sequences"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), default=0)
    touched: Mapped[float] = mapped_column(Float, default=0.0)


# The hot path of every post (issue 7 load test): prebuilt Core statements on the session's
# connection cost a fraction of ORM ``get``/``add``/``flush`` (about 0.2 ms instead of 1 ms each).
_GET_INTERACTION = (
    select(InteractionRow.id, InteractionRow.customer_id, InteractionRow.result, InteractionRow.digest,
           InteractionRow.seq)
    .where(InteractionRow.tenant == bindparam("tenant"), InteractionRow.id == bindparam("ident"))
)
_INSERT_INTERACTION = insert(InteractionRow)
_BUMP_SEQ = (update(SeqRow).where(SeqRow.name == bindparam("seq_name")).values(value=SeqRow.value + 1)
             .returning(SeqRow.value))


class StoredInteraction:
    __slots__ = ("id", "customer_id", "result", "created", "digest", "seq")

    def __init__(self, id: str, customer_id: str, result: dict[str, Any], created: bool, digest: str,
                 seq: int) -> None:
        self.id = id
        self.customer_id = customer_id
        self.result = result
        self.created = created
        self.digest = digest
        self.seq = seq


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # Let SQLAlchemy's "begin" event issue BEGIN IMMEDIATE: a deferred transaction that reads
    # and then writes fails with SQLITE_BUSY_SNAPSHOT under WAL when another writer got there first.
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


#: Execution option of a read-only session (``Store.read_session``).
READ_ONLY = "nlp_read_only"


def _sqlite_begin(conn: Any) -> None:
    # A read-only session takes a deferred snapshot: under WAL it neither waits for the writer nor
    # blocks it. Everything else takes the write lock up front (see _sqlite_pragmas).
    conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get(READ_ONLY) else "BEGIN IMMEDIATE")


class _WriteLock:
    """Serialises SQLite write transactions: threads on an ``RLock``, processes on ``flock(2)``.

    SQLite's busy handler polls with sleeps that grow to 100 ms, so under load a waiting writer
    wakes late and can lose the lock again and again: posts at 100/s had a p99 of ~2 s and a max
    of ~5 s waiting in ``BEGIN IMMEDIATE`` (issue 7). Writers that queue on a lock which blocks in
    the kernel are handed the database at once, in turn. SQLite's own locking still guarantees
    correctness (and covers processes that do not take this lock, e.g. the CLI).
    """

    def __init__(self, path: Path | None) -> None:
        self._path = path
        self._rlock = threading.RLock()
        self._local = threading.local()
        self._fd: int | None = None
        self._pid = 0

    def _file(self) -> int | None:
        if self._path is None:
            return None
        if self._fd is None or self._pid != os.getpid():  # a forked child needs its own open file
            self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
            self._pid = os.getpid()
        return self._fd

    @contextmanager
    def hold(self) -> Iterator[None]:
        with self._rlock:
            depth = getattr(self._local, "depth", 0)
            fd = self._file() if depth == 0 else None
            if fd is not None:
                fcntl.flock(fd, fcntl.LOCK_EX)
            self._local.depth = depth + 1
            try:
                yield
            finally:
                self._local.depth = depth
                if fd is not None:
                    fcntl.flock(fd, fcntl.LOCK_UN)

    def close(self) -> None:
        with self._rlock:
            if self._fd is not None and self._pid == os.getpid():
                os.close(self._fd)
            self._fd = None


def _sqlite_path(url: str) -> Path | None:
    if not url.startswith("sqlite"):
        return None
    path = url.split("///", 1)[-1].split("?", 1)[0]
    return Path(path) if path and path != ":memory:" else None


def make_engine(url: str, *, echo: bool = False) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, echo=echo, connect_args={"check_same_thread": False, "timeout": 30},
                               pool_size=8, max_overflow=16, json_serializer=_json_dumps,
                               json_deserializer=orjson.loads)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, echo=echo, pool_pre_ping=True, pool_size=10, max_overflow=20,
                         json_serializer=_json_dumps, json_deserializer=orjson.loads)


def _json_dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def _encode_cursor(occurred: str, ident: str) -> str:
    return base64.urlsafe_b64encode(json.dumps([occurred, ident]).encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[str, str] | None:
    try:
        pad = "=" * (-len(cursor) % 4)
        occurred, ident = json.loads(base64.urlsafe_b64decode(cursor + pad))
        return str(occurred), str(ident)
    except (ValueError, TypeError):
        return None


class Store:
    """All database access of the service."""

    def __init__(self, url: str, *, echo: bool = False, create: bool = True) -> None:
        self.url = url
        self.engine = make_engine(url, echo=echo)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._sqlite = self.engine.dialect.name == "sqlite"
        db_path = _sqlite_path(url)
        self._write_lock = _WriteLock(db_path.with_name(db_path.name + ".writelock") if db_path else None) \
            if self._sqlite else None
        self.after_commit_callbacks: list[Any] = []
        event.listen(self._sessions, "after_commit", self._after_commit)
        if create:
            self.create_schema()

    def _after_commit(self, session: Session) -> None:
        if not session.info:
            return
        info = dict(session.info)
        session.info.clear()
        for cb in self.after_commit_callbacks:
            try:
                cb(info)
            except Exception:  # noqa: BLE001 - the data is committed; a failed notification is only logged
                logger.exception("after-commit callback failed")

    @property
    def backend(self) -> str:
        return self.engine.dialect.name

    def create_schema(self) -> None:
        """Bring the schema to the newest Alembic revision (creates it on an empty database).

        Replicas starting together serialise on a PostgreSQL advisory lock (SQLite: the write lock).
        """
        from alembic import command
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(Path(__file__).resolve().parent / "migrations"))
        logging.getLogger("alembic").setLevel(logging.WARNING)
        with self.engine.begin() as conn:
            if self.backend == "postgresql":
                conn.exec_driver_sql("SELECT pg_advisory_xact_lock(72173)")
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A read-write transaction (SQLite: taken with the write lock up front)."""
        if self._write_lock is None:
            with self._sessions() as s, s.begin():
                yield s
            return
        with self._write_lock.hold(), self._sessions() as s, s.begin():
            yield s

    @contextmanager
    def read_session(self) -> Iterator[Session]:
        """A read-only transaction: on SQLite a deferred snapshot that never waits for writers.

        Nothing may be written in it (on SQLite a write would fail with ``database is locked``
        or ``SQLITE_BUSY_SNAPSHOT`` when another writer committed meanwhile).
        """
        with self._sessions() as s, s.begin():
            if self._sqlite:
                s.connection(execution_options={READ_ONLY: True})
            yield s

    def close(self) -> None:
        self.engine.dispose()
        if self._write_lock is not None:
            self._write_lock.close()

    # ------------------------------------------------------------ sequences

    def next_seq(self, s: Session, name: str) -> int:
        # One UPDATE … RETURNING (a row lock on PostgreSQL, the write lock on SQLite).
        value = s.connection().execute(_BUMP_SEQ, {"seq_name": name}).scalar()
        if value is not None:
            return int(value)
        row = s.get(SeqRow, name, with_for_update=True)
        if row is None:
            row = SeqRow(name=name, value=0)
            s.add(row)
            try:
                s.flush()
            except IntegrityError:  # pragma: no cover - a concurrent first insert
                s.rollback()
                row = s.get(SeqRow, name, with_for_update=True)
                assert row is not None
        row.value += 1
        s.flush()
        return row.value

    # ------------------------------------------------------------ interactions

    def get_interaction(self, tenant: str, ident: str) -> StoredInteraction | None:
        with self.read_session() as s:
            row = s.connection().execute(_GET_INTERACTION, {"tenant": tenant, "ident": ident}).first()
            if row is None:
                return None
            return StoredInteraction(row.id, row.customer_id, row.result, False, row.digest, row.seq)

    def put_interaction(self, tenant: str, *, ident: str, customer_id: str, channel: str, fmt: str,
                        occurred_at: datetime, content: str, digest: str, team: str | None, region: str | None,
                        result: dict[str, Any], on_insert: Any = None) -> StoredInteraction:
        """Insert once; a second put of the same id returns the stored row (``created=False``).

        ``on_insert(session, seq)`` runs inside the same transaction (alerts, outbox), so an
        interaction and what it raised are stored together or not at all.
        """
        try:
            with self.session() as s:
                conn = s.connection()
                existing = conn.execute(_GET_INTERACTION, {"tenant": tenant, "ident": ident}).first()
                if existing is not None:
                    return StoredInteraction(existing.id, existing.customer_id, existing.result, False,
                                             existing.digest, existing.seq)
                seq = self.next_seq(s, "interactions")
                conn.execute(_INSERT_INTERACTION, {
                    "tenant": tenant, "id": ident, "seq": seq, "customer_id": customer_id, "channel": channel,
                    "format": fmt, "occurred_at": occurred_at, "occurred_at_text": occurred_at.isoformat(),
                    "content": content, "digest": digest, "team": team, "region": region, "result": result,
                    "created_at": utcnow()})
                if on_insert is not None:
                    on_insert(s, seq)
                return StoredInteraction(ident, customer_id, result, True, digest, seq)
        except IntegrityError:
            # Two concurrent posts of one id: the other won; return its row.
            got = self.get_interaction(tenant, ident)
            if got is None:  # pragma: no cover
                raise
            return got

    def list_interactions(self, tenant: str, customer_id: str, *, limit: int = 20,
                          cursor: str | None = None) -> tuple[list[dict[str, Any]], str | None, int]:
        """Newest first (by occurred_at, then id), keyset-paginated."""
        with self.read_session() as s:
            base = select(InteractionRow).where(InteractionRow.tenant == tenant,
                                                InteractionRow.customer_id == customer_id)
            total = s.scalar(select(func.count()).select_from(base.subquery())) or 0
            q = base.order_by(InteractionRow.occurred_at.desc(), InteractionRow.id.desc())
            if cursor:
                decoded = _decode_cursor(cursor)
                if decoded is None:
                    raise ValueError("cursor")
                occ_text, ident = decoded
                try:
                    occ = datetime.fromisoformat(occ_text)
                except ValueError:
                    raise ValueError("cursor") from None
                if occ.tzinfo is None:
                    raise ValueError("cursor")
                q = q.where((InteractionRow.occurred_at < occ) |
                            ((InteractionRow.occurred_at == occ) & (InteractionRow.id < ident)))
            rows = list(s.scalars(q.limit(limit + 1)))
            more = len(rows) > limit
            rows = rows[:limit]
            next_cursor = _encode_cursor(rows[-1].occurred_at.isoformat(), rows[-1].id) if more and rows else None
            return [r.result for r in rows], next_cursor, total

    def interactions_since(self, tenant: str, customer_id: str, after_seq: int) -> list[tuple[int, dict[str, Any]]]:
        with self.read_session() as s:
            q = (select(InteractionRow.seq, InteractionRow.result)
                 .where(InteractionRow.tenant == tenant, InteractionRow.customer_id == customer_id,
                        InteractionRow.seq > after_seq)
                 .order_by(InteractionRow.occurred_at, InteractionRow.seq))
            return [(seq, result) for seq, result in s.execute(q)]

    def customer_results(self, tenant: str, customer_id: str) -> list[dict[str, Any]]:
        with self.read_session() as s:
            q = (select(InteractionRow.result)
                 .where(InteractionRow.tenant == tenant, InteractionRow.customer_id == customer_id)
                 .order_by(InteractionRow.occurred_at, InteractionRow.seq))
            return list(s.scalars(q))

    def get_sync(self, tenant: str, customer_id: str) -> SyncRow | None:
        with self.read_session() as s:
            return s.get(SyncRow, (tenant, customer_id))

    def set_sync(self, tenant: str, customer_id: str, last_seq: int, draft: dict[str, Any]) -> None:
        with self.session() as s:
            row = s.get(SyncRow, (tenant, customer_id))
            if row is None:
                s.add(SyncRow(tenant=tenant, customer_id=customer_id, last_seq=last_seq, synced_at=utcnow(),
                              draft=draft))
            else:
                row.last_seq = max(row.last_seq, last_seq)
                row.synced_at = utcnow()
                row.draft = draft

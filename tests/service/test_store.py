"""The store: migrations match the models, idempotent inserts, keyset pagination, UTC times."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from nlp_service.store import Base, Store


def _put(store: Store, ident: str, when: datetime, tenant: str = "t") -> bool:
    return store.put_interaction(tenant, ident=ident, customer_id="C", channel="wechat", fmt="plain",
                                 occurred_at=when, content="x", digest="d", team=None, region=None,
                                 result={"interaction_id": ident}).created


def test_migrations_create_exactly_the_models(db_url: str) -> None:
    store = Store(db_url)
    try:
        with store.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        assert diff == [], diff
        Store(db_url).close()  # a second start is a no-op upgrade
    finally:
        store.close()


def test_put_is_idempotent_and_listing_orders_by_real_time(db_url: str) -> None:
    store = Store(db_url)
    try:
        cst = timezone(timedelta(hours=8))
        assert _put(store, "a", datetime(2026, 3, 2, 10, 0, tzinfo=cst))
        assert not _put(store, "a", datetime(2026, 3, 2, 10, 0, tzinfo=cst))
        # 03:30 UTC is later than 10:00+08:00 (02:00 UTC) although its text sorts first.
        assert _put(store, "b", datetime(2026, 3, 2, 3, 30, tzinfo=timezone.utc))
        items, cursor, total = store.list_interactions("t", "C", limit=1)
        assert [i["interaction_id"] for i in items] == ["b"] and total == 2
        items, cursor, _ = store.list_interactions("t", "C", limit=1, cursor=cursor)
        assert [i["interaction_id"] for i in items] == ["a"] and cursor is None
        assert store.list_interactions("other", "C")[2] == 0
        got = store.get_interaction("t", "a")
        assert got is not None and got.seq >= 1
    finally:
        store.close()

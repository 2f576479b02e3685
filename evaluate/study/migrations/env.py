"""Alembic environment, run programmatically by :meth:`evaluate.study.store.Store.upgrade`.

The caller hands over an open connection in ``config.attributes["connection"]`` (inside
its transaction), so migrations run on exactly the database the store opened. For a
developer's ``alembic -x url=... upgrade head`` the URL comes from ``-x url=``.
"""

from alembic import context
from sqlalchemy import create_engine

# A constant key for PostgreSQL's advisory lock: two app processes starting at once must
# not both run the same migration.
_PG_LOCK_KEY = 0x766F6964  # "void"


def _run(connection) -> None:
    from evaluate.study.schema import Base  # for `alembic revision --autogenerate` only

    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_LOCK_KEY})")
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copy
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    url = context.get_x_argument(as_dictionary=True).get("url")
    if not url:
        raise SystemExit("pass the database with: alembic -x url=sqlite:///study.db upgrade head")
    from evaluate.study.store import normalize_url

    with create_engine(normalize_url(url)).begin() as conn:
        _run(conn)

"""PostgreSQL helpers for the test suite."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import make_url


def recreate_database(url: str) -> None:
    """Drop and create the database named in ``url`` (connecting to its server's ``postgres`` db)."""
    target = make_url(url)
    admin = sa.create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
            conn.execute(sa.text(f'CREATE DATABASE "{target.database}"'))
    finally:
        admin.dispose()

"""The PostgreSQL fixture gives a real, writable database."""

from __future__ import annotations

import sqlalchemy as sa


def test_postgres_url_is_a_real_server(postgres_url: str) -> None:
    engine = sa.create_engine(postgres_url)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE probe (x int)"))
        conn.execute(sa.text("INSERT INTO probe VALUES (41)"))
        assert conn.execute(sa.text("SELECT x + 1 FROM probe")).scalar_one() == 42
    engine.dispose()

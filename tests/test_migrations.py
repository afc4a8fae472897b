"""The migrations build the whole domain from empty, go back to base, and match the models."""

import os

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade
from sqlalchemy.engine import make_url

from auditbo.database import alembic_compare_type
from auditbo.extensions import db
from tests import pg
from tests.conftest import TEST_DB_URL, make_app


@pytest.fixture
def fresh_app(tmp_path):
    if TEST_DB_URL:
        url = make_url(TEST_DB_URL)
        url = url.set(database=f"{url.database}_mig").render_as_string(hide_password=False)
        pg.recreate_database(url)
    else:
        url = f"sqlite:///{tmp_path / 'mig.sqlite'}"
    app = make_app(url)
    yield app
    with app.app_context():
        db.engine.dispose()


def _tables(app) -> set[str]:
    with app.app_context():
        return set(sa.inspect(db.engine).get_table_names()) - {"alembic_version"}


def test_one_head():
    from alembic.config import Config

    from auditbo import MIGRATIONS_DIR

    cfg = Config(os.path.join(MIGRATIONS_DIR, "alembic.ini"))
    cfg.set_main_option("script_location", MIGRATIONS_DIR)
    assert len(ScriptDirectory.from_config(cfg).get_heads()) == 1


def test_upgrade_creates_every_table_and_downgrade_removes_them(fresh_app):
    with fresh_app.app_context():
        upgrade()
        expected = set(db.metadata.tables)
    assert _tables(fresh_app) == expected
    assert {"assessments", "confirmation_audits", "spot_checks", "ratings", "events", "complaints"} <= expected
    with fresh_app.app_context():
        downgrade(revision="base")
    assert _tables(fresh_app) == set()


def test_models_and_migrations_agree(fresh_app):
    """Autogenerate finds no difference between the migrated schema and the models."""
    with fresh_app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            ctx = MigrationContext.configure(
                conn, opts={"compare_type": alembic_compare_type, "target_metadata": db.metadata}
            )
            diff = compare_metadata(ctx, db.metadata)
    assert diff == []

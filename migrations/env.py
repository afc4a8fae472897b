"""Alembic environment for auditbo (Flask-Migrate), batch mode for SQLite."""

import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app

from auditbo.database import alembic_compare_type, alembic_render_item

config = context.config
if config.config_file_name and not config.attributes.get("skip_logging_config"):
    fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("alembic.env")

target_db = current_app.extensions["migrate"].db


def get_engine():
    return target_db.engine


config.set_main_option("sqlalchemy.url", get_engine().url.render_as_string(hide_password=False).replace("%", "%%"))


def get_metadata():
    return target_db.metadata


def _configure_args():
    args = dict(current_app.extensions["migrate"].configure_args)
    args.update(render_item=alembic_render_item, compare_type=alembic_compare_type, render_as_batch=True)
    return args


def run_migrations_offline():
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=get_metadata(),
                      literal_binds=True, **_configure_args())
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    def process_revision_directives(context_, revision, directives):
        if getattr(config.cmd_opts, "autogenerate", False):
            script = directives[0]
            if script.upgrade_ops.is_empty():
                directives[:] = []
                logger.info("No changes in schema detected.")

    connectable = config.attributes.get("connection")
    if connectable is not None:
        _run(connectable, process_revision_directives)
        return
    with get_engine().connect() as connection:
        _run(connection, process_revision_directives)


def _run(connection, process_revision_directives):
    args = _configure_args()
    args.setdefault("process_revision_directives", process_revision_directives)
    context.configure(connection=connection, target_metadata=get_metadata(), **args)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()

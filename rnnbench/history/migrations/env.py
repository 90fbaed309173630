"""Alembic's environment for the history store: migrations run on the connection rnnbench
opened (:func:`rnnbench.history.store.open_store` passes it in), never from an alembic.ini."""

from __future__ import annotations

from alembic import context

from rnnbench.history.schema import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()

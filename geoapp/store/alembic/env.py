"""Alembic's entry point for QMI Atlas: runs the revisions on the connection it is handed.

`geoapp.store.migrations` opens the connection, takes the migration lock (SQLite: the
write lock of ``BEGIN IMMEDIATE``; PostgreSQL: an advisory lock) and passes it in
``config.attributes["connection"]``, so every revision of one upgrade runs inside that
one transaction: a failure leaves the database at the revision it had, never
half-upgraded, and two processes starting together upgrade it once. Use
``geoapp db upgrade`` (or `geoapp.store.migrations.upgrade`), not the ``alembic`` command.
"""

from alembic import context

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError(
        "QMI Atlas migrations run through geoapp.store.migrations.upgrade (geoapp db upgrade)."
    )
context.configure(connection=connection, transactional_ddl=True)
with context.begin_transaction():
    context.run_migrations()

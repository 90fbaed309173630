"""Opening the history store: which database, its migrations, and the errors a user can meet.

The URL is ``--db``, else ``RNNBENCH_DB``, else ``sqlite:///<RNNBENCH_HOME>/history.sqlite``. A
store is brought to this rnnbench's schema with Alembic when it is opened; one written by a
newer rnnbench (a revision this one does not know) is refused, not downgraded. SQLite runs
every transaction as ``BEGIN IMMEDIATE`` with a busy timeout, so concurrent ingests queue
instead of failing with "database is locked" (SQLAlchemy's documented pysqlite recipe).

Every failure a user can cause — an unreachable server, a wrong password, a file that is not
a store, a URL no driver reads — is one :class:`~rnnbench.errors.UserError` line naming the
store (password hidden).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from rnnbench.errors import UserError

BUSY_TIMEOUT_S = 60.0


def store_url(url: str | None = None) -> str:
    """The store's URL: ``url``, else ``$RNNBENCH_DB``, else the SQLite file in the data home."""
    if url:
        return url
    if os.environ.get("RNNBENCH_DB"):
        return os.environ["RNNBENCH_DB"]
    from rnnbench.paths import home

    return f"sqlite:///{home() / 'history.sqlite'}"


def shown(url: str) -> str:
    """The URL as it may be printed: the password hidden."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - an unparsable URL is shown as given
        return url


@contextlib.contextmanager
def database_errors(url: str) -> Iterator[None]:
    """Database failures as one line naming the store."""
    from sqlalchemy import exc

    where = shown(url)
    try:
        yield
    except (exc.ArgumentError, exc.NoSuchModuleError) as e:
        raise UserError(f"--db {where}: not a database URL rnnbench can open ({_first_line(e)})",
                        hint="e.g. sqlite:///history.sqlite or postgresql+psycopg://user@host/db") from None
    except exc.DBAPIError as e:
        text = _first_line(e.orig) if e.orig is not None else _first_line(e)
        if "file is not a database" in text or "malformed" in text:
            raise UserError(f"{where}: not an rnnbench history store ({text})") from None
        raise UserError(f"{where}: {text}") from None


def _first_line(e: object) -> str:
    lines = [s.strip() for s in str(e).strip().splitlines() if s.strip()]
    return lines[0] if lines else type(e).__name__


def open_store(url: str | None = None) -> Any:
    """An SQLAlchemy engine on the store at ``url`` (see :func:`store_url`), migrated to this
    rnnbench's schema."""
    from sqlalchemy import create_engine, event

    url = store_url(url)
    with database_errors(url):
        if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
            path = Path(url.removeprefix("sqlite:///"))
            if not path.parent.is_dir():
                path.parent.mkdir(parents=True, exist_ok=True)
        sqlite = url.startswith("sqlite")
        engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_S} if sqlite else {})
        if sqlite:
            @event.listens_for(engine, "connect")
            def _no_implicit_begin(dbapi_connection: Any, _record: Any) -> None:
                dbapi_connection.isolation_level = None
                dbapi_connection.execute("PRAGMA foreign_keys = ON")

            @event.listens_for(engine, "begin")
            def _begin_immediate(conn: Any) -> None:
                conn.exec_driver_sql("BEGIN IMMEDIATE")

        _migrate(engine, url)
    return engine


def _scripts() -> Any:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).with_name("migrations")))
    return cfg, ScriptDirectory.from_config(cfg)


def _migrate(engine: Any, url: str) -> None:
    """Bring the store to head in one transaction; refuse a store from a newer rnnbench. Two
    processes opening a new store at once: the second finds it made (or tries again)."""
    from alembic import command
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy import exc

    cfg, scripts = _scripts()
    for attempt in range(3):
        try:
            with engine.begin() as conn:
                current = MigrationContext.configure(conn).get_current_revision()
                if current is not None and not _known(scripts, current):
                    raise UserError(f"{shown(url)}: written by a newer rnnbench (store revision {current}; this "
                                    f"rnnbench knows up to {scripts.get_current_head()})", hint="upgrade rnnbench")
                if current != scripts.get_current_head():
                    cfg.attributes["connection"] = conn
                    command.upgrade(cfg, "head")
            return
        except (exc.IntegrityError, exc.ProgrammingError):
            if attempt == 2:
                raise


def _known(scripts: Any, revision: str) -> bool:
    from alembic.util import CommandError

    try:
        return scripts.get_revision(revision) is not None
    except CommandError:
        return False

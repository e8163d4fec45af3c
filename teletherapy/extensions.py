"""Extensions, created unbound and bound in create_app (cookiecutter-flask style)."""

from flask import Flask
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf import CSRFProtect
from greenlet import getcurrent
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.orm import Session, scoped_session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry


class Database:
    """One engine and a request-scoped session; the session is removed at teardown.

    Sessions are scoped to the current greenlet (each OS thread runs its own, so
    threads are covered too), not to a ``threading.local``: this module is imported
    before ``teletherapy serve`` monkey-patches gevent, and a ``threading.local``
    created then is per OS thread, which made every greenlet — every request and
    socket event — share one session and one transaction.
    """

    def __init__(self) -> None:
        self.engine: Engine | None = None
        self.session: scoped_session[Session] = scoped_session(
            sessionmaker(), scopefunc=getcurrent
        )

    def init_app(self, app: Flask) -> None:
        url = app.config["DATABASE_URL"]
        self.engine = make_engine(
            url,
            pool_size=int(app.config.get("DATABASE_POOL_SIZE", POOL_SIZE)),
            max_overflow=int(app.config.get("DATABASE_MAX_OVERFLOW", MAX_OVERFLOW)),
        )
        self.session.remove()
        self.session.configure(bind=self.engine, expire_on_commit=False)
        app.extensions["database"] = self
        app.teardown_appcontext(self._teardown)

    def _teardown(self, exc: BaseException | None) -> None:
        self.session.remove()


# A fixed pool: greenlets queue for one of these instead of opening overflow
# connections, each of which cost a PostgreSQL backend start and was closed again on
# return; under load that churn fed on itself (docs/performance.md). Size it so that
# processes times size stays under the server's max_connections.
POOL_SIZE = 20
MAX_OVERFLOW = 0


def make_engine(
    url: str, pool_size: int = POOL_SIZE, max_overflow: int = MAX_OVERFLOW
) -> Engine:
    """An engine tuned per backend: SQLite gets foreign keys, WAL and a busy timeout."""
    if url.startswith("sqlite"):
        engine = create_engine(
            url, connect_args={"timeout": 15, "check_same_thread": False}
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(
        url, pool_pre_ping=True, pool_size=pool_size, max_overflow=max_overflow
    )


def _sqlite_pragmas(
    dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry
) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.close()


db = Database()
login_manager = LoginManager()
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address, default_limits=[])

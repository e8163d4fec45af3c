"""Run Alembic from the app's configuration (no alembic.ini needed).

Alembic is imported when a migration runs: every other command and the server
would otherwise import it at start-up for nothing (about 80 ms).
"""

from typing import TYPE_CHECKING

from ..paths import MIGRATIONS

if TYPE_CHECKING:
    from alembic.config import Config


def alembic_config(url: str) -> "Config":
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    from alembic import command

    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str = "base") -> None:
    from alembic import command

    command.downgrade(alembic_config(url), revision)

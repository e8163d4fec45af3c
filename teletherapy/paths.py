"""Where the app's files are: the repository's folders in a checkout, copies in a wheel.

A checkout keeps templates/, config/, migrations/ and node_modules/ beside the
package. An installed wheel carries copies of them inside the package, under
``teletherapy/_data/`` (pyproject.toml maps each folder there). See
docs/deploy.md#installing-as-a-package.
"""

import os
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
CHECKOUT = PACKAGE.parent
SHIPPED = PACKAGE / "_data"
INSTALLED = SHIPPED.is_dir()  # only a built wheel has _data/; a checkout never does


def _resource(shipped: str, checkout: str) -> Path:
    return SHIPPED / shipped if INSTALLED else CHECKOUT / checkout


TEMPLATES = _resource("templates", "templates")
CONFIG = _resource("config", "config")
MIGRATIONS = _resource("migrations", "migrations")
SOCKET_IO_CLIENT = _resource("vendor", "node_modules/socket.io-client/dist")


def instance_path() -> str | None:
    """TELETHERAPY_INSTANCE_PATH if set; else instance/ in a checkout; else None,
    which lets Flask choose (``<sys.prefix>/var/teletherapy-instance``)."""
    configured = os.environ.get("TELETHERAPY_INSTANCE_PATH")
    if configured:
        return configured
    return None if INSTALLED else str(CHECKOUT / "instance")

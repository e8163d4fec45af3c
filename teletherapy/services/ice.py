"""ICE servers for browsers; TURN credentials in coturn's REST-API style.

With TURN_SECRET set, each user gets a username "<expiry unix time>:<user id>" and
a password base64(HMAC-SHA1(secret, username)), valid for TURN_TTL_SECONDS
(coturn `use-auth-secret` / `static-auth-secret`). The call page asks for fresh
ones before they expire (docs/security.md, row 20).
"""

import base64
import hashlib
import hmac
import time
from typing import Any


def ice_servers(
    config: dict[str, Any], user_id: str, now: float | None = None
) -> list[dict[str, Any]]:
    servers: list[dict[str, Any]] = [dict(s) for s in config.get("ICE_SERVERS") or []]
    secret = config.get("TURN_SECRET")
    urls = config.get("TURN_URLS") or []
    if secret and urls:
        expiry = int((now or time.time()) + int(config.get("TURN_TTL_SECONDS", 3600)))
        username = f"{expiry}:{user_id}"
        digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
        servers.append(
            {
                "urls": list(urls),
                "username": username,
                "credential": base64.b64encode(digest).decode(),
            }
        )
    return servers

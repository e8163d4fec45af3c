"""Two server processes behind one Redis message queue serve one session (docs/deploy.md)."""

import asyncio
import uuid

import pytest
import redis
import requests
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from ..conftest import PG_ADMIN_URL
from .conftest import LiveServer, make_world, upgrade_database
from .test_aiortc_call import call, check_media_and_data

pytestmark = pytest.mark.e2e
REDIS_URL = "redis://127.0.0.1:6379/14"


@pytest.fixture
def postgres_database():  # type: ignore[no-untyped-def]
    name = f"tt_e2e_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield (
        make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    )
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def two_servers(postgres_database, tmp_path):  # type: ignore[no-untyped-def]
    prefix = f"tt-test-{uuid.uuid4().hex[:8]}:"
    env = {"TELETHERAPY_SIGNALING_PRESENCE_PREFIX": prefix}
    a = LiveServer(database_url=postgres_database, redis_url=REDIS_URL, extra_env=env)
    b = LiveServer(database_url=postgres_database, redis_url=REDIS_URL, extra_env=env)
    upgrade_database(a)
    a.start(tmp_path)
    b.start(tmp_path)
    yield a, b
    a.stop()
    b.stop()
    r = redis.Redis.from_url(REDIS_URL)
    for key in r.scan_iter(f"{prefix}*"):
        r.delete(key)


def test_peers_on_different_processes_complete_a_call(two_servers):
    a, b = two_servers
    for server in (a, b):
        health = requests.get(server.url + "/healthz", timeout=5).json()
        assert health["message_queue"] == "ok" and health["async_mode"] == "gevent"
    world = make_world(a)

    async def scenario() -> None:
        therapist, client = await call(
            a.url, b.url, world
        )  # therapist on A, client on B
        try:
            assert [p["user_id"] for p in therapist.joined[-1]["peers"]] == [
                world.client["id"]
            ]
            await check_media_and_data(therapist, client)
            sent = await client.chat("across processes")
            assert sent["ok"]
            await asyncio.sleep(0.5)
            got = [d for name, d in therapist.events if name == "chat"]
            assert [m["text"] for m in got] == ["across processes"]
        finally:
            await therapist.close()
            await client.close()

    asyncio.run(scenario())

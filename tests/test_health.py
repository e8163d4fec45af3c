"""GET /healthz names the failing part (docs/deploy.md, "Health": Redis down is not silent)."""

from teletherapy import create_app
from teletherapy.extensions import db


def test_healthy_single_process(client):
    body = client.get("/healthz").get_json()
    assert body == {
        "status": "ok",
        "database": "ok",
        "message_queue": "disabled",
        "async_mode": "threading",
    }


def test_configured_redis_that_is_down_makes_health_fail(database_url, tmp_path):
    app = create_app(
        {
            "ENV": "testing",
            "DATABASE_URL": database_url,
            "SECRET_KEY": "k",
            "PSEUDONYM_KEY": "p",
            "REDIS_URL": "redis://127.0.0.1:1/0",
        }
    )
    app.instance_path = str(tmp_path)
    r = app.test_client().get("/healthz")
    assert r.status_code == 503
    assert r.get_json()["message_queue"] == "unreachable"
    assert "message_queue" in r.get_json()["status"]
    db.engine.dispose()


def test_database_down_makes_health_fail(tmp_path):
    app = create_app(
        {
            "ENV": "testing",
            "DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none",
            "SECRET_KEY": "k",
            "PSEUDONYM_KEY": "p",
        }
    )
    r = app.test_client().get("/healthz")
    assert r.status_code == 503 and r.get_json()["database"] == "unreachable"
    db.engine.dispose()

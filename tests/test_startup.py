"""`teletherapy serve` refuses to start when a configured dependency is down
(docs/deploy.md, "Health")."""

import pytest

from teletherapy.services.startup import StartupError, check_dependencies


def test_redis_down_while_configured_is_a_clear_error(app):
    with app.app_context(), pytest.raises(StartupError, match="TELETHERAPY_REDIS_URL"):
        check_dependencies({"REDIS_URL": "redis://127.0.0.1:1/0"})


def test_everything_up_passes(app):
    with app.app_context():
        check_dependencies({"REDIS_URL": "redis://127.0.0.1:6379/15"})
        check_dependencies({"REDIS_URL": ""})


def test_serve_exits_with_the_message_when_redis_is_down(app, runner):
    app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"
    result = runner.invoke(args=["serve", "--port", "0"])
    assert result.exit_code != 0
    assert "Redis does not answer" in result.output

"""Teletherapy: sessions over video, audio or chat, rated from both sides."""

from typing import Any

from flask import Flask

from . import paths


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app: config → extensions → blueprints → signaling → errors → CLI → proxy."""
    app = Flask(
        __name__,
        instance_path=paths.instance_path(),
        template_folder=str(paths.TEMPLATES),
    )
    from . import (
        access,
        cli,
        config,
        errors,
        extensions,
        headers,
        proxy,
        templating,
        web_auth,
    )
    from .rtc_policy import RtcPolicy

    config.load(app, test_config)
    extensions.db.init_app(app)
    extensions.csrf.init_app(app)
    extensions.limiter.init_app(app)
    web_auth.init_app(app)
    access.init_app(app)
    headers.init_app(app)
    templating.init_app(app)
    _register_blueprints(app)

    import signaling

    signaling.init_app(app, policy=RtcPolicy(app))
    errors.init_app(app)
    cli.init_app(app)
    proxy.init_app(app)  # outermost: engine.io sees the client's address too
    return app


def _register_blueprints(app: Flask) -> None:
    from .admin import bp as admin_bp
    from .api import bp as api_bp
    from .auth import bp as auth_bp
    from .consent import bp as consent_bp
    from .dashboard import bp as dashboard_bp
    from .extensions import csrf
    from .health import bp as health_bp
    from .outcomes import bp as outcomes_bp
    from .rating_forms import bp as rating_forms_bp
    from .research.views import bp as research_bp
    from .sessions import bp as sessions_bp
    from .vendor import bp as vendor_bp

    csrf.exempt(api_bp)  # bearer tokens, never cookies: nothing for CSRF to forge
    for bp in (
        auth_bp,
        dashboard_bp,
        sessions_bp,
        rating_forms_bp,
        outcomes_bp,
        research_bp,
        consent_bp,
        admin_bp,
        api_bp,
        health_bp,
        vendor_bp,
    ):
        app.register_blueprint(bp)

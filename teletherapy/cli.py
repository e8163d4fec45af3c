"""Command line: `teletherapy …` and `flask --app teletherapy …` run the same commands."""

import os
import secrets
import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup, FlaskGroup, with_appcontext
from flask.globals import app_ctx

from .config import Settings
from .extensions import db
from .models import Invitation
from .private_files import write_private
from .reminders import reminders_cli
from .research import cli as research_cli
from .services import accounts, audit, migrations
from .services.errors import ServiceError
from .services.mail import Outgoing

db_cli = AppGroup("db", help="Database schema.")
users_cli = AppGroup("users", help="Accounts.")
caseload_cli = AppGroup("caseload", help="Therapist–client pairs.")
instruments_cli = AppGroup("instruments", help="Rating instruments.")
mail_cli = AppGroup("mail", help="Outgoing mail.")
tls_cli = AppGroup("tls", help="Certificates for HTTPS.")

DEMO = [
    ("therapist", "therapist@demo.example", "Dr. Dana Reyes"),
    ("client", "client@demo.example", "Sam Client"),
    ("researcher", "researcher@demo.example", "Riley Researcher"),
    ("admin", "admin@demo.example", "Alex Admin"),
]


def _fail(exc: ServiceError) -> None:
    detail = f" ({exc.details})" if exc.details else ""
    raise click.ClickException(f"{exc.message}{detail}")


@db_cli.command("upgrade")
def db_upgrade() -> None:
    """Apply all migrations to the configured database."""
    migrations.upgrade(current_app.config["DATABASE_URL"])
    click.echo("database is up to date")


@users_cli.command("create")
@click.option(
    "--role",
    type=click.Choice(["therapist", "client", "researcher", "admin"]),
    required=True,
)
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option(
    "--password-stdin", is_flag=True, help="Read the password from standard input."
)
def users_create(role: str, email: str, name: str, password_stdin: bool) -> None:
    """Create an account; prints the new id alone on the last line."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = secrets.token_urlsafe(15)
        click.echo(f"generated password: {password}")
    try:
        user = accounts.create_user(
            db.session(),
            email=email,
            name=name,
            role=role,
            password=password,
            actor_id=None,
            hash_method=Settings.of(current_app.config).password_hash_method,
            origin=audit.CLI,
        )
    except ServiceError as exc:
        _fail(exc)
    click.echo(user.id)


@users_cli.command("invite")
@click.option(
    "--role",
    type=click.Choice(["therapist", "client", "researcher", "admin"]),
    required=True,
)
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option(
    "--therapist",
    "therapist_email",
    default=None,
    help="For a client: the therapist whose caseload they join.",
)
@click.option(
    "--no-send",
    is_flag=True,
    help="Only queue the mail (the server or `teletherapy mail send` sends it).",
)
def users_invite(
    role: str, email: str, name: str, therapist_email: str | None, no_send: bool
) -> None:
    """Invite someone by e-mail to choose their own password: queues the mail,
    tries once to send what is queued (a command has no background sender), and
    prints the invitation's link alone on the last line."""
    from . import mailer
    from .auth.invite import composer
    from .services import invitations

    links: list[str] = []
    compose = composer(None)

    def keep_link(token: str, row: Invitation) -> Outgoing:
        links.append(mailer.public_url(f"/invite/{token}"))
        return compose(token, row)

    try:
        therapist_id = None
        if therapist_email:
            therapist_id = accounts.user_by_email(db.session(), therapist_email).id
        row = invitations.create(
            db.session(),
            email=email,
            display_name=name,
            role=role,
            inviter=None,
            therapist_id=therapist_id,
            ttl_hours=float(current_app.config["INVITATION_TTL_HOURS"]),
            compose=keep_link,
            origin=audit.CLI,
        )
    except ServiceError as exc:
        _fail(exc)
    click.echo(f"invitation {row.id} for {row.email} queued")
    if not no_send:
        report = mailer.drain(app_ctx.app)  # the app itself, not its proxy
        if report.sent:
            click.echo(f"mail sent: {report.sent}")
        else:
            click.echo(
                "the mail could not be sent now; it stays queued and is retried "
                "(the server's sender, teletherapy mail send)"
            )
    click.echo(links[-1])


@caseload_cli.command("add")
@click.option("--therapist", "therapist_email", required=True)
@click.option("--client", "client_email", required=True)
def caseload_add(therapist_email: str, client_email: str) -> None:
    """Put a client in a therapist's caseload."""
    try:
        therapist = accounts.user_by_email(db.session(), therapist_email)
        client = accounts.user_by_email(db.session(), client_email)
        accounts.add_to_caseload(
            db.session(), therapist, client, actor_id=None, origin=audit.CLI
        )
    except ServiceError as exc:
        _fail(exc)
    click.echo(f"{client.email} is in {therapist.email}'s caseload")


@instruments_cli.command("list")
def instruments_list() -> None:
    """Every instrument, whether it can be shown, and the configured pairs."""
    from ratings import InstrumentError

    from . import instruments_app as instruments

    app = app_ctx.app  # the app itself, not its proxy
    try:
        rows = instruments.listing(app)
    except InstrumentError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(
        f"{'id':<12} {'version':<8} {'kind':<16} {'perspective':<12} shown  from"
    )
    for form, origin in rows:
        shown = "yes" if form.is_showable else "no"
        click.echo(
            f"{form.id:<12} {form.version:<8} {form.kind:<16} "
            f"{form.perspective:<12} {shown:<6} {origin}"
        )
    default = app.config["DEFAULT_INSTRUMENT_PAIR"]
    click.echo("")
    for pair_id, status in instruments.pair_status(app):
        mark = " (default)" if pair_id == default else ""
        click.echo(f"pair {pair_id}{mark}: {status}")


@instruments_cli.command("import")
@click.argument("template_id")
@click.option(
    "--items",
    "items_file",
    required=True,
    type=click.Path(exists=True, dir_okay=False),
    help="Licensed items file (id,text CSV or [[items]] TOML), kept outside git.",
)
@click.option("--replace", is_flag=True, help="Write the completed form again.")
def instruments_import(template_id: str, items_file: str, replace: bool) -> None:
    """Complete a template with licensed item text into instance/instruments/."""
    from ratings import InstrumentError

    from . import instruments_app as instruments

    app = app_ctx.app  # the app itself, not its proxy
    try:
        path = instruments.import_template(
            app, template_id, items_file, overwrite=replace
        )
    except InstrumentError as exc:
        raise click.ClickException(str(exc)) from None
    except ServiceError as exc:
        _fail(exc)
    click.echo(f"wrote {path} (licensed text: keep it out of version control)")


@click.command("demo")
@with_appcontext
@click.option(
    "--dyads", default=6, show_default=True, help="Synthetic therapist–client pairs."
)
@click.option(
    "--sessions", default=8, show_default=True, help="Rated sessions per pair."
)
def demo(dyads: int, sessions: int) -> None:
    """Demo accounts (printed once, with random passwords) and a synthetic history."""
    from .services import demo as demo_service

    if current_app.config["ENV"] == "production":
        raise click.ClickException(
            "demo is refused with TELETHERAPY_ENV=production: it adds an admin and a "
            "researcher account and fake consented data to research"
        )

    settings = Settings.from_app(app_ctx.app)  # the app itself, not its proxy
    created = demo_service.seed_accounts(db.session(), DEMO, settings)
    creds = Path(current_app.instance_path) / "demo-credentials.txt"
    if created:
        lines = [
            f"{role:<11} {email:<26} {password}" for role, email, password in created
        ]
        write_private(creds, "\n".join(lines) + "\n")
        click.echo("Demo accounts (passwords are random for this install):")
        for line in lines:
            click.echo("  " + line)
    else:
        click.echo(f"Demo accounts exist; their passwords are in {creds}")
    try:
        added = demo_service.seed_history(
            db.session(), settings, dyads=dyads, sessions=sessions
        )
    except ServiceError as exc:
        _fail(exc)
    if added["dyads"]:
        click.echo(
            f"Synthetic history: {added['dyads']} dyads, {added['sessions']} ended "
            f"sessions, {added['ratings']} ratings (all with research consent)"
        )


@click.command("serve")
@with_appcontext
@click.option(
    "--host",
    default=lambda: os.environ.get("HOST", "127.0.0.1"),
    show_default="127.0.0.1",
)
@click.option(
    "--port",
    default=lambda: int(os.environ.get("PORT", "5000")),
    type=int,
    show_default="5000",
)
@click.option(
    "--tls-cert",
    type=click.Path(exists=True, dir_okay=False),
    help="Serve HTTPS with this certificate (PEM); needs --tls-key.",
)
@click.option(
    "--tls-key",
    type=click.Path(exists=True, dir_okay=False),
    help="The certificate's private key (PEM).",
)
def serve(host: str, port: int, tls_cert: str | None, tls_key: str | None) -> None:
    """Serve HTTP (or HTTPS with --tls-cert/--tls-key) and Socket.IO in this process."""
    import signaling

    from .services.startup import StartupError, check_dependencies

    app = app_ctx.app  # the app itself, not its proxy
    try:
        check_dependencies(app.config)
    except StartupError as exc:
        raise click.ClickException(f"not starting: {exc}") from None
    tls = _tls_options(app, tls_cert, tls_key)
    scheme = "https" if tls else "http"
    click.echo(
        f"Serving on {scheme}://{host}:{port} (async mode {app.config['ASYNC_MODE']})"
    )
    _accept_own_origin(app, host, port, scheme)
    origins = ", ".join(sorted(signaling.current_hub(app).allowed_origins))
    click.echo(f"Calls accept pages from: {origins} (TELETHERAPY_ALLOWED_ORIGINS)")
    from . import mailer

    mailer.kick(app)  # mail queued before a restart goes out now
    signaling.socketio.run(
        app,
        host=host,
        port=port,
        allow_unsafe_werkzeug=True,
        log_output=False,
        **tls,
    )


def _tls_options(app: Flask, cert: str | None, key: str | None) -> dict[str, object]:
    """The server's TLS arguments, checked before it listens; with TLS every cookie
    is Secure (browsers give camera and microphone only to HTTPS or localhost)."""
    if not cert and not key:
        return {}
    if not (cert and key):
        raise click.UsageError("--tls-cert and --tls-key go together")
    import ssl

    try:
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(cert, key)
    except (ssl.SSLError, OSError) as exc:
        raise click.ClickException(
            f"not starting: the TLS certificate or key cannot be used ({exc}); "
            "`teletherapy tls selfsigned --host NAME --out DIR` makes a pair to try"
        ) from None
    app.config.update(
        SESSION_COOKIE_SECURE=True,
        REMEMBER_COOKIE_SECURE=True,
        PREFERRED_URL_SCHEME="https",
    )
    if app.config["ASYNC_MODE"] == "gevent":
        return {"certfile": cert, "keyfile": key}
    return {"ssl_context": (cert, key)}


@tls_cli.command("selfsigned")
@click.option(
    "--host",
    "hosts",
    multiple=True,
    required=True,
    help="A name or IP address browsers will open (repeat for more).",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False),
    required=True,
    help="Folder for cert.pem and key.pem.",
)
@click.option("--days", default=30, show_default=True, type=click.IntRange(1, 825))
def tls_selfsigned(hosts: tuple[str, ...], out_dir: str, days: int) -> None:
    """A self-signed certificate for trying a call between two computers on one
    network; each browser asks once whether to trust it. Prints the serve command."""
    from .tls import self_signed

    cert, key = self_signed(list(hosts), Path(out_dir), days=days)
    click.echo(f"certificate: {cert}")
    click.echo(f"private key: {key} (readable by you only)")
    click.echo(
        f"serve with: teletherapy serve --host {hosts[0]} --port 5000 "
        f"--tls-cert {cert} --tls-key {key}"
    )


@mail_cli.command("send")
def mail_send() -> None:
    """Send the queued mail that is due (one round; the server also sends by itself)."""
    from . import mailer

    report = mailer.drain(app_ctx.app)
    click.echo(f"sent {report.sent}, retrying {report.retried}, failed {report.failed}")
    if report.failed:
        sys.exit(1)


def _accept_own_origin(app: Flask, host: str, port: int, scheme: str = "http") -> None:
    """Without ALLOWED_ORIGINS (development), the socket accepts the address served
    here, whatever HOST/PORT said when the app was configured (docs/configuration.md)."""
    if not app.config.get("ALLOWED_ORIGINS_FOLLOW_SERVE"):
        return
    import signaling

    from .config import served_origins

    origins = served_origins(host, port, scheme)
    app.config["ALLOWED_ORIGINS"] = origins
    signaling.current_hub(app).allow_origins(origins)


def init_app(app: Flask) -> None:
    for command in (
        db_cli,
        users_cli,
        caseload_cli,
        instruments_cli,
        mail_cli,
        tls_cli,
        reminders_cli,
        demo,
        serve,
    ):
        app.cli.add_command(command)
    research_cli.register(app.cli)  # analyze, export


def main() -> None:
    """Console script entry point."""
    serving = len(sys.argv) > 1 and sys.argv[1] == "serve"
    if serving and os.environ.get("TELETHERAPY_ASYNC_MODE", "gevent") == "gevent":
        # Before anything imports socket or threading (docs/performance.md).
        from gevent import monkey

        monkey.patch_all()
    from . import create_app

    FlaskGroup(create_app=create_app, add_default_commands=False, name="teletherapy")(
        prog_name="teletherapy"
    )

"""The ``teletherapy`` console script.

``teletherapy analyze FILE.csv`` reads a CSV and needs neither the web application nor a
database, so it runs without building the app (a second saved on every call; the command
is the same one ``flask --app teletherapy analyze`` runs). Every other command goes through
``teletherapy.cli.main``.
"""

import sys


def main() -> None:
    """Console script entry point."""
    if len(sys.argv) > 1 and sys.argv[1] == "analyze":
        from .research.cli import analyze

        analyze.main(args=sys.argv[2:], prog_name="teletherapy analyze")
        return
    from .cli import main as run_cli

    run_cli()

"""A warm ``teletherapy`` command line for the end-to-end helpers.

``python -m tests.e2e.seed`` builds the app once, the way ``teletherapy`` does
(``FlaskGroup(create_app=create_app)``, in the environment of the live server
it seeds), then runs one command per line of standard input: a JSON object
``{"args": [...], "stdin": "..."}`` answered by one line ``{"code": N, "stdout":
"...", "stderr": "..."}``. The commands are the console script's own (``db upgrade``,
``users create``, ``caseload add``), each in a fresh click context and app context,
so seeding a test's users goes through exactly the code a person at a terminal runs,
without starting Python and the app (about two seconds) for every command. The
database connections are closed after each command, as at the end of a process.
The process ends when its standard input closes.

The cyclic garbage collector is off while the app is built and the objects built are
frozen afterwards (``gc.freeze``): a collection pass over the imports costs about a
fifth of a second, and one over the whole heap at exit half a second.
"""

import gc
import json
import os
import sys
import traceback
from typing import Any


def main() -> None:
    gc.disable()
    replies = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)  # anything else written to stdout cannot garble the replies

    from click.testing import CliRunner
    from flask.cli import FlaskGroup, ScriptInfo

    from teletherapy import create_app
    from teletherapy.extensions import db

    group = FlaskGroup(
        create_app=create_app, add_default_commands=False, name="teletherapy"
    )
    info = ScriptInfo(create_app=create_app)
    info.load_app()  # once, before the first command
    gc.freeze()
    gc.enable()
    runner = CliRunner()
    for line in sys.stdin:
        request = json.loads(line)
        result = runner.invoke(
            group,
            request["args"],
            input=request.get("stdin"),
            obj=info,
            prog_name="teletherapy",
        )
        if db.engine is not None:
            db.engine.dispose()
        stderr = result.stderr
        if result.exc_info and not isinstance(result.exception, SystemExit):
            stderr += "".join(traceback.format_exception(*result.exc_info))
        reply: dict[str, Any] = {
            "code": result.exit_code,
            "stdout": result.stdout,
            "stderr": stderr,
        }
        replies.write(json.dumps(reply) + "\n")
        replies.flush()
    gc.freeze()  # nothing left to collect that matters: skip the pass at exit


if __name__ == "__main__":
    main()

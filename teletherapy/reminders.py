"""Session reminders and calendar files by mail: `teletherapy reminders send`."""

from flask.cli import AppGroup

reminders_cli = AppGroup("reminders", help="Session reminders by mail.")

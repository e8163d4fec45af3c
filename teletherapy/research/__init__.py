"""Research: consented, pseudonymous paired ratings and what researchers read from them.

The package holds the blueprint (``views.bp``, the dashboard), the API, the service
(``analysis``), rows, filters, exports, codebook and the ``analyze``/``export`` commands.
Importing the package itself loads nothing else, so ``teletherapy analyze`` starts without
the web application (teletherapy/entry.py).
"""

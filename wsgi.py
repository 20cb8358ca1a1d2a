"""WSGI entry point for running the gateway under any WSGI server: ``gunicorn wsgi:app``.

Configuration comes from the ``SLUIS_*`` environment variables (see README, Configuration).
``gateway serve`` is the usual way to start; it checks everything first and prints clear errors.
"""

from gateway.app import create_app
from gateway.settings import Settings

app = create_app(Settings.from_env())

"""The dashboard and team server (FastAPI + Jinja2, no front-end build step).

``create_app`` in ``app.py`` builds the application around one ``Database``
and ``Settings``; ``asgi.build`` builds it for each server process from
the settings ``faultbook serve`` passes in.  Routes live per domain in ``routes/`` and only translate: parse the
request, call one service from ``faultbook.services``, render HTML or JSON.
Every HTML page has a JSON twin under ``/api/v1`` and links to it.

Nothing here is imported by the CLI at start-up: ``faultbook serve`` imports
it inside the command.
"""

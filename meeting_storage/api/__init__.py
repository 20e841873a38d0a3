"""The REST API (FastAPI): `create_app` in app.py wires the routers, errors and limits."""

"""The local Docker stack: reading ``docker-compose.yml`` for the Docker SDK and keeping
the stack's ``.env`` secrets. ``services.stack`` runs it."""

"""Open311 GeoReport v2 (CONTRACT §14) at ``/open311/v2/``: an adapter over the intake and petitions
services, for integrators that speak the standard instead of ``/v1``.

- ``georeport.py``: pure — the directory's categories as services, a petition as a service request
  (``open``/``closed``, Chinese ``status_notes``, no personal data), form bodies and query filters;
- ``wire.py``: pure — JSON and XML documents and the spec's error arrays;
- ``routes.py``: the Blueprint, built by :func:`blueprint` from the runtime getter app.py hands it
  (this package never imports the runtime). Its routes are plain Chalice routes, not the Router's:
  they answer the spec's shapes (``[{"code","description"}]``), not the ``/v1`` error object, and
  are not in the OpenAPI document.
"""

from chalicelib.open311.routes import blueprint

__all__ = ["blueprint"]

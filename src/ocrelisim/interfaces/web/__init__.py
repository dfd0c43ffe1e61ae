"""The web app (issue 16): pages, a JSON API, FHIR in and out; every asset in the package.

>>> from fastapi.testclient import TestClient              # doctest: +SKIP
>>> from ocrelisim.interfaces.web import create_app         # doctest: +SKIP
>>> TestClient(create_app()).get("/").status_code           # doctest: +SKIP
200

``ocrelisim serve`` runs it with uvicorn. For research and education only; not clinical advice.
"""

from .app import create_app as create_app
from .app import serve as serve

__all__ = ["create_app", "serve"]

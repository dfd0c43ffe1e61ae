"""Models as data, found by name: ``simulate(..., model="pk" | "immune" | <registered>)``.

A :class:`Model` declares its states (explicit, then linear), outputs with units and the states
each reads, individual parameters with units, random effects (``n_eta`` draws per patient from
its own stream) and covariate model (``individual``), dose targets by route, and its compiled
kernel; :func:`register` makes it available to :func:`ocrelisim.simulate`, which never names a
model. The engine (:mod:`ocrelisim.engine`) knows none of them.

* ``"pk"`` (:mod:`.pk`): two-compartment ocrelizumab PK with an SC depot; output C (mg/L).
* ``"immune"`` (:mod:`.immune`): the PK, B cells, CD20+ T cells, T-cell and cytokine indices,
  immunoglobulins (14 outputs).
"""

from . import immune as immune
from . import pk as pk
from ._base import Model as Model
from ._base import get as get
from ._base import given_columns as given_columns
from ._base import names as names
from ._base import register as register
from ._base import registered as registered
from ._base import unregister as unregister

__all__ = ["Model", "get", "given_columns", "immune", "names", "pk", "register", "registered",
           "unregister"]

"""airgrid: a tiered H3 3D airspace grid on real terrain, with routing and deconfliction.

Layers import one way only: ``terrain`` -> ``airspace`` -> ``routing`` -> ``api``.
The library attaches only a ``NullHandler`` to its logger; the CLI sets levels.
"""

import logging

__version__ = "0.1.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())

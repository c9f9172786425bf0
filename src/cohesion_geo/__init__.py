"""cohesion-geo: define, weigh and debate priority territories (quartiers prioritaires).

The pipeline reads INSEE statistical layers and residents' reports
(:mod:`cohesion_geo.loaders`), computes a few indicators and where they cluster
(:mod:`cohesion_geo.indicators`), delineates and ranks candidate quartiers
(:mod:`cohesion_geo.priority`), and publishes maps, scenario comparisons and a
council report (:mod:`cohesion_geo.maps`, :mod:`cohesion_geo.scenarios`).
"""

from __future__ import annotations

__version__ = "0.1.0"

"""The funded projects held out of everything the ranking learns from, so that benchmarks can query with them.

One CUP in ``HOLDOUT_MODULO``, by a hash of the CUP: the same projects are left out of the measures' examples
(``corpora/connectors/italia_domani.py``) and of the funded-project vote (``matching/supervision.py``), and
``benchmarks/relevance.py`` queries with them.
"""

from __future__ import annotations

import hashlib

HOLDOUT_MODULO = 10


def is_holdout(cup: str, modulo: int = HOLDOUT_MODULO) -> bool:
    """Projects held out of the measures' examples, so that benchmarks can query with them fairly."""
    return int(hashlib.sha1(cup.encode("utf-8")).hexdigest()[:8], 16) % modulo == 0

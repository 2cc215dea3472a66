"""Convergenze: document intelligence for Italian and EU funding calls, measures and programmes.

The import root. Each top-level folder of the repository is a subpackage (``pyproject.toml`` maps
``convergenze.api`` to ``api/`` and so on), and this folder links to each of them so that type checkers,
import-linter and editors, which do not run setuptools' import hook, see the same tree. Layers, bottom up
(enforced by ``make lint``): core, extractors, corpora, index, matching, pipelines, services, api, cli.
"""

__version__ = "0.1.0"

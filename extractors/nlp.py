"""spaCy, imported without PyTorch.

Thinc (under spaCy) imports torch at its own import only to find out whether it is installed: its torch layers
are for trained pipelines, and ours are blank (tokenizer, stop words, lookup lemmas). torch was most of what
importing spaCy cost a cold command (about 5 of 8 s here, on a loaded machine); a search never runs it.
"""

from __future__ import annotations

import importlib
import sys
from types import ModuleType


def import_spacy() -> ModuleType:
    """The ``spacy`` module; when it is first imported here, thinc is told torch is absent (thinc then never
    uses torch in this process; the embedders import torch themselves when they need it). Nothing changes if
    torch or spaCy is already imported."""
    if "spacy" in sys.modules or "torch" in sys.modules:
        return importlib.import_module("spacy")
    sys.modules["torch"] = None  # type: ignore[assignment]  # `import torch` raises ImportError meanwhile
    try:
        return importlib.import_module("spacy")
    finally:
        if sys.modules.get("torch", 0) is None:
            del sys.modules["torch"]

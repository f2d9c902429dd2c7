"""Text helpers the simulators share."""
from __future__ import annotations

import unicodedata


def without_accents(text: str) -> str:
    """`Éloïse` → `Eloise`: what SACoche's and the ENT's comparisons of names ignore."""
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))

"""Text that leaves the bot for a person (terminal, report.html): characters that would act on
the display rather than show — terminal escapes and other control characters, bidirectional
overrides that reorder what follows — are replaced by a visible mark, ⟨U+202E⟩. A name in a
school file or on a site can carry them; on the screen they could hide or disguise a line."""
from __future__ import annotations

import re

# C0 controls but tab and newline, DEL, C1 controls, and the bidi controls (embeddings,
# overrides, isolates, marks).
INVISIBLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def visible(text: str) -> str:
    return INVISIBLE.sub(lambda found: f"⟨U+{ord(found.group()):04X}⟩", text)


def json_visible(text: str) -> str:
    """JSON text whose strings keep their exact value but show such characters as \\uXXXX
    escapes (a terminal printing --json output would otherwise act on them)."""
    return INVISIBLE.sub(lambda found: f"\\u{ord(found.group()):04x}", text)

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


ELLIPSIS = "…"


def shorten(text: str, width: int) -> str:
    """`text` on one line, at most `width` characters: cut at a word boundary and ended with
    « … » when longer (a person reads it; a word cut in two reads as another word)."""
    text = " ".join(text.split())
    if len(text) <= width:
        return text
    room = max(width - len(ELLIPSIS), 1)
    cut = text[:room + 1].rfind(" ")
    # A single word longer than the room (an address, a path) can only be cut inside.
    kept = text[:cut] if cut > 0 else text[:room]
    return kept.rstrip(" ,;:.-—–/") + ELLIPSIS


# « de » is elided before these; a mute « h » is not guessed (an address starts with « https »).
VOWELS = "aeiouàâäéèêëîïôöùûüæœ"


def de(name: str) -> str:
    """« de » before `name`, elided before a vowel sound: de("ARENA") → « d'ARENA »,
    de("SACoche") → « de SACoche », de("l'ENT") → « de l'ENT »."""
    start = name[:2].lower()
    # « y » sounds as a vowel before a consonant (Yves), as a consonant before a vowel (Yann).
    vowel = start[:1] in VOWELS if start[:1] != "y" else start[1:2] not in VOWELS + "y"
    return f"d'{name}" if name and vowel else f"de {name}"

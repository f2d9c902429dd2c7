"""One-time passcodes as ARENA's tokens make them (TOTP, RFC 6238: HMAC-SHA1, 30-second steps,
6 digits). `python -m sim.arena.otp` prints the current code of the demo's token: the demo alone
passes it as --otp-command; a real token's seed never reaches the bot."""
from __future__ import annotations

import base64
import hashlib
import hmac
import struct
import sys
import time

DEMO_SEED = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"   # base32, known to the demo and the tests only
STEP_S = 30


def code_at(seed: str, moment: float, digits: int = 6) -> str:
    key = base64.b32decode(seed.upper() + "=" * (-len(seed) % 8))
    digest = hmac.new(key, struct.pack(">Q", int(moment // STEP_S)), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset:offset + 4])[0] & 0x7FFFFFFF
    return str(value % 10 ** digits).zfill(digits)


def accepts(seed: str, code: str, moment: float | None = None) -> bool:
    """The current code or the one of the step before or after (clocks drift)."""
    moment = time.time() if moment is None else moment
    return any(hmac.compare_digest(code, code_at(seed, moment + shift * STEP_S)) for shift in (-1, 0, 1))


if __name__ == "__main__":
    print(code_at(sys.argv[1] if len(sys.argv) > 1 else DEMO_SEED, time.time()))

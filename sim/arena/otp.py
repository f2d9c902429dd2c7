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


def main(argv: list[str] | None = None) -> int:
    from bot.frenchargs import FrenchParser
    parser = FrenchParser(prog="python -m sim.arena.otp",
                          description="Affiche le passcode à usage unique du moment (TOTP, 6 chiffres, 30 s), "
                                      "comme le jeton ARENA de la démonstration.")
    parser.add_argument("seed", nargs="?", default=DEMO_SEED, metavar="GRAINE",
                        help="graine du jeton, en base32 (défaut : celle de la démonstration)")
    args = parser.parse_args(argv)
    try:
        print(code_at(args.seed, time.time()))
    except ValueError:   # binascii.Error: not base32
        parser.error(f"graine « {args.seed} » : base32 attendue (lettres A-Z et chiffres 2-7)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

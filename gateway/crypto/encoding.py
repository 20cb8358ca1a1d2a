"""base64url without padding (RFC 4648 section 5), strict on decode."""

from __future__ import annotations

import base64
import binascii

import pybase64

from gateway.crypto.errors import EnvelopeMalformed

_URL_TO_STANDARD = bytes.maketrans(b"-_", b"+/")
#: In canonical unpadded base64url the unused low bits of the last character are zero: with
#: 2 characters in the last group only these 4 may end it, with 3 only these 16.
_LAST_OF_2 = frozenset("AQgw")
_LAST_OF_3 = frozenset("AEIMQUYcgkosw048")
_LAST_OF_2_BYTES = frozenset(b"AQgw")
_LAST_OF_3_BYTES = frozenset(b"AEIMQUYcgkosw048")


def b64u_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64u_decode(text: str, *, what: str = "value") -> bytes:
    """Decode canonical unpadded base64url; anything else raises EnvelopeMalformed.

    ``binascii.a2b_base64`` in strict mode refuses every character outside the alphabet (after
    mapping ``-_`` to ``+/``, so a literal ``+``, ``/`` or ``=`` is refused first); the last
    character's unused bits must be zero. All in C: payloads are kilobytes long.
    """
    if type(text) is not str or len(text) % 4 == 1:
        raise EnvelopeMalformed(f"The {what} is not unpadded base64url.")
    try:
        raw = text.encode("ascii")
    except UnicodeEncodeError:
        raise EnvelopeMalformed(f"The {what} is not unpadded base64url.") from None
    # One pass deletes any literal '+', '/' or '=' (refused below by the length) and maps
    # '-_' to '+/'; strict a2b_base64 then refuses every other character.
    standard = raw.translate(_URL_TO_STANDARD, b"+/=")
    if len(standard) != len(raw):
        raise EnvelopeMalformed(f"The {what} is not unpadded base64url.")
    rest = len(text) % 4
    try:
        data = binascii.a2b_base64(standard + b"=" * (-rest % 4), strict_mode=True)
    except binascii.Error:
        raise EnvelopeMalformed(f"The {what} is not unpadded base64url.") from None
    if (rest == 2 and text[-1] not in _LAST_OF_2) or (rest == 3 and text[-1] not in _LAST_OF_3):
        raise EnvelopeMalformed(f"The {what} is not canonical base64url.")  # stray low bits
    return data


def b64u_decode_ascii(raw: bytes) -> bytes | None:
    """:func:`b64u_decode` for text still in bytes (a slice of an envelope's wire form): the
    same rules, None where it raises (a test pins the two together)."""
    rest = len(raw) % 4
    # pybase64 with altchars reads '-_' and '+/' alike and takes '=' padding: memchr refuses
    # a literal '+', '/' or '=' first, as b64u_decode does.
    if rest == 1 or b"+" in raw or b"/" in raw or b"=" in raw:
        return None
    if (rest == 2 and raw[-1] not in _LAST_OF_2_BYTES) or (
        rest == 3 and raw[-1] not in _LAST_OF_3_BYTES
    ):
        return None  # stray low bits
    try:
        # validate=True refuses every other character outside the alphabet (bytes >= 0x80
        # included); SIMD, several times faster than binascii on a kilobyte payload.
        return pybase64.b64decode(raw + b"=" * (-rest % 4), altchars=b"-_", validate=True)
    except ValueError:  # binascii.Error: a character outside the alphabet
        return None

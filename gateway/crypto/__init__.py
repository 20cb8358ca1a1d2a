"""The crypto core: the only package that imports PyNaCl.

Pure: no Flask, no database. Names say the intent (sign, verify, seal, open) and the module
decides algorithms, nonces and encodings for the caller. Verification raises; it never returns
a bool. Key objects never show secret bytes in ``repr``.
"""

from gateway.crypto.errors import CryptoError, SignatureInvalid
from gateway.crypto.fingerprint import fingerprint
from gateway.crypto.signing import SigningKey, verify_signature

__all__ = ["CryptoError", "SignatureInvalid", "SigningKey", "fingerprint", "verify_signature"]

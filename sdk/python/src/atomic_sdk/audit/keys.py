"""The log's public keys as auditors are handed them: Ed25519 JWKs (RFC 8037) whose kid is the signed-note key name."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Union

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ..errors import VerificationError
from .encoding import base64url, is_well_formed

# JavaScript's \s, which the gateway's key name check uses, and the C0/C1 control characters (\p{Cc}).
_NAME_REFUSED = re.compile("[\t\n\x0b\x0c\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff+\x00-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class KeyIdentity:
    """How the key is named out of band: the note key name, the 4-byte note key id in hex, and the SHA-256 fingerprint
    of the raw key ("sha256:<hex>") that the gateway logs at start and `atomic keys` prints."""

    name: str
    key_id: str
    fingerprint: str


@dataclass(frozen=True)
class PublicKey:
    """One trusted key of the log (several after a rotation)."""

    name: str
    raw: bytes
    identity: KeyIdentity
    _key: Ed25519PublicKey = field(repr=False, compare=False)

    def verify(self, signature: bytes, message: bytes) -> bool:
        try:
            self._key.verify(signature, message)
            return True
        except InvalidSignature:
            return False


PublicKeys = Union[PublicKey, dict, str, bytes, Iterable[Any]]


def _invalid(reason: str) -> VerificationError:
    return VerificationError("key_invalid", reason)


def check_key_name(name: object) -> str | None:
    """Why `name` is not a note key name (non-empty, no white space, no "+", no control character), or None."""
    if not isinstance(name, str) or name == "":
        return "is empty"
    if _NAME_REFUSED.search(name) or not is_well_formed(name):
        return "holds white space, a \"+\" or a control character"
    return None


def note_key_id(name: str, raw: bytes) -> bytes:
    """The C2SP signed-note key id: SHA-256(name ‖ 0x0A ‖ 0x01 ‖ raw Ed25519 key)[:4]."""
    return hashlib.sha256(name.encode("utf-8") + b"\n\x01" + raw).digest()[:4]


def public_key_from_jwk(jwk: object) -> PublicKey:
    """One Ed25519 public JWK; raises VerificationError (key_invalid) with the reason."""
    if not isinstance(jwk, dict):
        raise _invalid("public key: not a JWK object")
    if "d" in jwk:
        raise _invalid('public key: the JWK holds a private key ("d"); hand auditors the public half only')
    if jwk.get("kty") != "OKP":
        raise _invalid(f"public key: kty {jwk.get('kty')!r} is not \"OKP\"")
    if jwk.get("crv") != "Ed25519":
        raise _invalid(f"public key: crv {jwk.get('crv')!r} is not \"Ed25519\"")
    if "alg" in jwk and jwk["alg"] != "EdDSA":
        raise _invalid(f"public key: alg {jwk['alg']!r} is not \"EdDSA\"")
    if "use" in jwk and jwk["use"] != "sig":
        raise _invalid(f"public key: use {jwk['use']!r} is not \"sig\"")
    raw = base64url(jwk.get("x"))
    if raw is None or len(raw) != 32:
        raise _invalid("public key: x is not the base64url of 32 bytes")
    name = jwk.get("kid")
    if not isinstance(name, str):
        raise _invalid("public key: the JWK has no kid (the log's note key name)")
    problem = check_key_name(name)
    if problem is not None:
        raise _invalid(f"public key: kid {name!r} {problem}")
    identity = KeyIdentity(name, note_key_id(name, raw).hex(), "sha256:" + hashlib.sha256(raw).hexdigest())
    return PublicKey(name, raw, identity, Ed25519PublicKey.from_public_bytes(raw))


def trusted_keys(keys: PublicKeys) -> list[PublicKey]:
    """The keys given: parsed PublicKeys, a JWK, a list of JWKs, or their JSON text (a .pub.jwk file's content)."""
    if isinstance(keys, (str, bytes)):
        try:
            keys = json.loads(keys)
        except ValueError:
            raise _invalid("public key: not JSON") from None
    listed = [keys] if isinstance(keys, (dict, PublicKey)) else list(keys)
    if not listed:
        raise _invalid("no public key given")
    return [key if isinstance(key, PublicKey) else public_key_from_jwk(key) for key in listed]

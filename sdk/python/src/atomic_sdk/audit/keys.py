"""The log's public keys as auditors are handed them: Ed25519 JWKs (RFC 8037) whose kid is the signed-note key name."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Union

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ..errors import VerificationError
from .encoding import base64url, is_index, is_well_formed

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
    """One trusted key of the log (several after a rotation). `retired_at`, for a key the log no longer signs with, is
    the index of the key.rotated leaf that retired it: it signs trees of at most that many leaves (audit/FORMAT.md §6)."""

    name: str
    raw: bytes
    identity: KeyIdentity
    _key: Ed25519PublicKey = field(repr=False, compare=False)
    retired_at: int | None = None

    def verify(self, signature: bytes, message: bytes) -> bool:
        try:
            self._key.verify(signature, message)
            return True
        except InvalidSignature:
            return False

    def retired(self, at: int) -> PublicKey:
        """This key, retired by the key.rotated leaf at index `at` (what `verify.mjs` prints as --retired KEYID@INDEX)."""
        return dataclasses.replace(self, retired_at=_index(at, "retired_at"))


# A JWK, {"key": JWK, "retired_at": INDEX} for a retired key, a PublicKey, a list of those, or their JSON text.
PublicKeys = Union[PublicKey, dict, str, bytes, Iterable[Any]]


def _invalid(reason: str) -> VerificationError:
    return VerificationError("key_invalid", reason)


def describe_key(identity: KeyIdentity) -> str:
    """One key in words, as the gateway's start log, `atomic keys` and the verifier print it."""
    return f"{identity.name} id {identity.key_id} {identity.fingerprint}"


def _index(value: object, what: str) -> int:
    if not is_index(value):
        raise _invalid(f"{what} {value!r} is not a non-negative integer (the index of the key.rotated leaf that retired the key)")
    return int(value)  # type: ignore[arg-type]


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


def _entry(value: object, position: int) -> PublicKey:
    if isinstance(value, PublicKey):
        return value
    if not isinstance(value, dict) or "key" not in value:
        return public_key_from_jwk(value)
    for name in value:
        if name not in ("key", "retired_at"):
            raise _invalid(f'key {position}: unexpected member {name!r} (a retired key is {{"key": JWK, "retired_at": INDEX}})')
    key = value["key"] if isinstance(value["key"], PublicKey) else public_key_from_jwk(value["key"])
    if "retired_at" not in value:
        return key
    return dataclasses.replace(key, retired_at=_index(value["retired_at"], f"key {position}: retired_at"))


def trusted_keys(keys: PublicKeys) -> list[PublicKey]:
    """The keys given: parsed PublicKeys, a JWK, {"key": JWK, "retired_at": INDEX} for a retired key, a list of those,
    or their JSON text (a .pub.jwk file's content). A key may be given a bound once; copies of it share that bound."""
    if isinstance(keys, (str, bytes)):
        try:
            keys = json.loads(keys)
        except ValueError:
            raise _invalid("public key: not JSON") from None
    listed = [keys] if isinstance(keys, (dict, PublicKey)) else list(keys)
    if not listed:
        raise _invalid("no public key given")
    parsed = [_entry(key, position) for position, key in enumerate(listed, start=1)]
    bounds: dict[bytes, int] = {}
    for key in parsed:
        if key.retired_at is None:
            continue
        if key.raw in bounds:
            raise _invalid(f"key {key.identity.fingerprint} is given with retired_at twice ({bounds[key.raw]} and {key.retired_at}): give each retired key once")
        bounds[key.raw] = key.retired_at
    return [dataclasses.replace(key, retired_at=bounds[key.raw]) if key.retired_at is None and key.raw in bounds else key for key in parsed]

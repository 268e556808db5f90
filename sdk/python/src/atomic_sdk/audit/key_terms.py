"""Which key may sign a checkpoint of a given size after a key rotation (audit/FORMAT.md §6), as Atomic's own verifier
decides it (src/audit/verify/key-terms.ts and rotation-leaf.ts).

`atomic keys rotate` queues a key.rotated leaf and deletes the old private key, so the key retired by the leaf at
index r signs trees of at most r leaves: a checkpoint of more than r leaves signed by it is what someone who obtained
that key would make. A checkpoint of n leaves signed by key K is accepted only when:

1. n is at most K's bound, when K has one: the smaller of the index of the key.rotated leaf verified that retires K (a
   receipt's own leaf) and the `retired_at` K was given with; else key_retired;
2. K has a bound, or it is the only key given without one (taken for the log's current key); else key_unbounded;
3. the key the key.rotated leaf verified hands the log to is among the keys given; else key_unbounded.

A key.rotated leaf must carry the retiring key's signature over the next key (its handover); else rotation_invalid.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ..errors import VerificationError
from .encoding import base64url, standard_base64, utf8
from .keys import PublicKey, describe_key

ROTATION_KIND = "key.rotated"
_RAW_KEY = re.compile(r"[A-Za-z0-9_-]{43}")


@dataclass(frozen=True)
class Rotation:
    """A key.rotated leaf, verified: its index (the key it retires signs trees of at most this many leaves), the
    retired key and the key the log is handed to (raw 32-byte Ed25519 keys)."""

    index: int
    previous_key: bytes
    next_key: bytes


def fingerprint_of(raw: bytes) -> str:
    """A raw key's fingerprint as the gateway and the verifier print it."""
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def _raw_key(text: object) -> bytes | None:
    if not isinstance(text, str) or not _RAW_KEY.fullmatch(text):
        return None
    raw = base64url(text)
    return raw if raw is not None and len(raw) == 32 else None


def _signed_by(raw: bytes, signature: bytes, message: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(raw).verify(signature, message)
        return True
    except Exception:  # not a key, or not its signature
        return False


def rotation_of(event: dict, index: int, origin: str) -> Rotation | None:
    """The rotation a receipt's leaf records, None for a leaf of another kind; raises VerificationError
    (rotation_invalid) for a key.rotated leaf without a valid handover."""
    if event.get("kind") != ROTATION_KIND:
        return None

    def invalid(why: str) -> VerificationError:
        return VerificationError("rotation_invalid", f"the receipt's leaf is a key.rotated leaf {why}")

    detail = event.get("detail")
    if not isinstance(detail, dict):
        raise invalid("without a detail object")
    previous_text, next_text, handover = detail.get("previousKey"), detail.get("nextKey"), detail.get("handover")
    previous, following = _raw_key(previous_text), _raw_key(next_text)
    if previous is None or following is None:
        raise invalid("whose detail.previousKey or detail.nextKey is not the base64url of a 32-byte Ed25519 key")
    # Without this, whoever holds any key could write a leaf "retiring" the current one.
    signature = standard_base64(handover)
    text = utf8(f"atomic audit key rotation\n{origin}\n{next_text}\n")
    if signature is None or len(signature) != 64 or not _signed_by(previous, signature, text):
        raise invalid(f"whose handover is not a signature by the key it retires ({fingerprint_of(previous)}) over the next key")
    return Rotation(index, previous, following)


class KeyTerms:
    """The keys given, with their bounds, and the rotation leaf verified alongside them (a receipt's own), if any."""

    def __init__(self, keys: Sequence[PublicKey], rotation: Rotation | None = None) -> None:
        self._keys = keys
        self._rotation = rotation

    def check(self, size: int, signer: PublicKey, what: str) -> None:
        """Raises VerificationError (key_retired, key_unbounded) unless `signer` may sign a checkpoint of `size`
        leaves; `what` names the checkpoint ("the receipt's checkpoint")."""
        named = f"{what} of {size} leaves is signed by key {describe_key(signer.identity)}"
        bound = self._bound_of(signer)
        if bound is not None and size > bound[0]:
            index, by_log = bound
            by = f"the key.rotated leaf at index {index} retired it" if by_log else f"you gave it as retired at leaf {index} (retired_at)"
            raise VerificationError(
                "key_retired",
                f"{named}, but {by}: it signs trees of at most {index} leaves, and a later one is what a holder of the retired key would sign",
            )
        last = self._rotation
        if last is not None and not any(key.raw == last.next_key for key in self._keys):
            raise VerificationError(
                "key_unbounded",
                f"{named}, but the key.rotated leaf at index {last.index} hands the log to key {fingerprint_of(last.next_key)}, which is not "
                "among the keys given: give it too (it is the current key, or retired by a later leaf)",
            )
        if bound is not None:
            return
        unbounded: dict[bytes, PublicKey] = {}
        for key in self._keys:
            if self._bound_of(key) is None:
                unbounded.setdefault(key.raw, key)
        if len(unbounded) > 1:
            ids = ", ".join(key.identity.key_id for key in unbounded.values())
            raise VerificationError(
                "key_unbounded",
                f"{named}, but keys {ids} are given without a bound and only one of them can be the log's current key: give each "
                "retired key with retired_at (the index of the key.rotated leaf that retired it)",
            )

    def _bound_of(self, key: PublicKey) -> tuple[int, bool] | None:
        """The smaller of the given bound and the rotation leaf that retires the key: (index, whether the log's)."""
        rotation = self._rotation
        if rotation is not None and rotation.previous_key == key.raw and (key.retired_at is None or rotation.index <= key.retired_at):
            return rotation.index, True
        return None if key.retired_at is None else (key.retired_at, False)

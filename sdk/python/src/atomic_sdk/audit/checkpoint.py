"""Signed checkpoints (C2SP tlog-checkpoint in a signed note), as GET /v1/audit/checkpoint serves them:

    <origin>\\n<size>\\n<base64 root>\\n\\n— <key name> <base64(4-byte key id ‖ Ed25519 signature of the body)>\\n
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from ..errors import VerificationError
from .encoding import MAX_SAFE_INTEGER, is_well_formed, standard_base64, utf8
from .key_terms import KeyTerms
from .keys import PublicKey, PublicKeys, check_key_name, note_key_id, trusted_keys

_SIGNATURE_PREFIX = "\u2014 "
_MAX_SIGNATURES = 100
_DECIMAL = re.compile(r"0|[1-9][0-9]*")
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class Checkpoint:
    """A tree of the log: its origin (the log's name), its size in leaves and its root hash."""

    origin: str
    size: int
    root: bytes


@dataclass(frozen=True)
class SignedCheckpoint:
    checkpoint: Checkpoint
    key: PublicKey


class _Malformed(ValueError):
    pass


@dataclass(frozen=True)
class _SignatureLine:
    name: str
    key_id: bytes
    signature: bytes


def _split_note(note: str) -> tuple[str, list[_SignatureLine]]:
    # The text is everything up to the last blank line; the signature block follows it.
    split = note.rfind("\n\n")
    if split < 0:
        raise _Malformed("signed note has no blank line before its signatures")
    body, block = note[: split + 1], note[split + 2 :]
    if not block.endswith("\n"):
        raise _Malformed("signed note does not end with a newline")
    lines = block[:-1].split("\n")
    if len(lines) > _MAX_SIGNATURES:
        raise _Malformed(f"signed note has more than {_MAX_SIGNATURES} signatures")
    signatures = []
    for line in lines:
        if not line.startswith(_SIGNATURE_PREFIX):
            raise _Malformed('signature line does not start with "\u2014 "')
        rest = line[len(_SIGNATURE_PREFIX) :]
        space = rest.find(" ")
        if space <= 0:
            raise _Malformed("signature line has no key name")
        name, encoded = rest[:space], rest[space + 1 :]
        if check_key_name(name) is not None:
            raise _Malformed(f"signature line has an invalid key name {name!r}")
        data = standard_base64(encoded)
        if data is None or len(data) < 5:
            raise _Malformed(f"signature by {name!r} is not base64 of key id and signature")
        signatures.append(_SignatureLine(name, data[:4], data[4:]))
    return body, signatures


def _parse_body(body: str) -> Checkpoint:
    if not is_well_formed(body):
        raise _Malformed("checkpoint is not well-formed Unicode")
    lines = body[:-1].split("\n")
    if len(lines) != 3:
        raise _Malformed(f"checkpoint has {len(lines)} lines, expected 3 (origin, size, root hash)")
    origin, size_text, root_text = lines
    if origin == "" or _CONTROL.search(origin):
        raise _Malformed("checkpoint origin is empty or holds a control character")
    if not _DECIMAL.fullmatch(size_text):
        raise _Malformed(f"checkpoint size {size_text!r} is not a decimal without leading zeros")
    size = int(size_text)
    if size > MAX_SAFE_INTEGER:
        raise _Malformed(f"checkpoint size {size_text} is beyond 2^53 - 1")
    root = standard_base64(root_text)
    if root is None or len(root) != 32:
        raise _Malformed("checkpoint root hash is not base64 of 32 bytes")
    return Checkpoint(origin, size, root)


def parse_checkpoint(note: str) -> Checkpoint:
    """The tree a signed note names, WITHOUT checking any signature; raises VerificationError (checkpoint_invalid)."""
    try:
        return _parse_body(_split_note(note)[0])
    except _Malformed as error:
        raise VerificationError("checkpoint_invalid", str(error)) from None


def verify_checkpoint(note: str, keys: PublicKeys, what: str = "checkpoint") -> SignedCheckpoint:
    """The tree of a signed note signed by one of `keys`, and which; raises VerificationError: key_invalid,
    checkpoint_invalid (not a checkpoint), checkpoint_signature (no valid signature by a key given), key_retired (a
    retired key signed a tree past its retired_at) or key_unbounded (two keys given without a bound)."""
    trusted = trusted_keys(keys)
    signed = verify_with(note, trusted, what)
    KeyTerms(trusted).check(signed.checkpoint.size, signed.key, f"the {what}" if what == "checkpoint" else what)
    return signed


def verify_with(note: str, keys: Sequence[PublicKey], what: str) -> SignedCheckpoint:
    """verify_checkpoint with keys already parsed; `what` names the checkpoint in the reason."""
    try:
        body, signatures = _split_note(note)
        checkpoint = _parse_body(body)
    except _Malformed as error:
        raise VerificationError("checkpoint_invalid", f"{what}: {error}") from None
    signed = utf8(body)
    unknown, bad = [], []
    for key in keys:
        key_id = note_key_id(key.name, key.raw)
        candidates = [line for line in signatures if line.name == key.name and line.key_id == key_id]
        if any(len(line.signature) == 64 and key.verify(line.signature, signed) for line in candidates):
            return SignedCheckpoint(checkpoint, key)
        if candidates:
            bad.append(f"the signature by key {key.name!r} does not verify")
        else:
            unknown.append(f"no signature by key {key.name!r} (id {key_id.hex()})")
    # A signature line that does not verify says more than the absence of one by the other keys.
    raise VerificationError("checkpoint_signature", f"{what}: {'; '.join(bad or unknown)}")

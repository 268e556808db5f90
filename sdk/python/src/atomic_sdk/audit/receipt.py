"""Offline verification of a receipt (GET /v1/audit/receipt/{eventId}, audit/FORMAT.md §9): one leaf of the log
with its RFC 9162 inclusion proof in a tree whose checkpoint the log signed. Needs the log's public key(s) only:
no network, no database. The checks, their order and their codes are those of Atomic's own verifier
(src/audit/verify/receipt.ts)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from ..errors import VerificationError
from .checkpoint import parse_checkpoint, verify_with
from .encoding import is_index, standard_base64, to_base64, utf8
from .key_terms import KeyTerms, rotation_of
from .keys import KeyIdentity, PublicKeys, trusted_keys
from .leaf import decode_leaf
from .merkle import leaf_hash, verify_inclusion

_FIELDS = ("object", "event_id", "index", "leaf", "leaf_hash", "chain_hash", "tree_size", "root", "checkpoint", "inclusion_proof")
# Receipts fetched before chain_hash was added verify all the same.
_OPTIONAL = ("chain_hash",)
# A proof of a tree of at most 2^53 leaves has at most 53 hashes.
_MAX_PROOF_HASHES = 128


@dataclass(frozen=True)
class VerifiedReceipt:
    """What a receipt proves: the event `event_id` of `kind` is leaf `index` of the tree of `tree_size` leaves with
    `root`, of the log `origin`, signed by `key`; `held` when that is the checkpoint the caller already held."""

    event_id: str
    kind: str
    index: int
    origin: str
    tree_size: int
    root: str
    key: KeyIdentity
    held: bool
    event: dict[str, Any]


def verify_receipt(receipt: Any, keys: PublicKeys, held_checkpoint: str | None = None) -> VerifiedReceipt:
    """Verifies `receipt` (its JSON text, or the parsed object) against the trusted `keys`: the log's public JWK(s),
    as dict, list or JSON text, or PublicKeys; after a rotation each retired key as {"key": JWK, "retired_at": r}
    (or PublicKey.retired(r)), r the index of the key.rotated leaf that retired it. With `held_checkpoint`, the
    receipt must prove inclusion in exactly that signed tree. Raises VerificationError naming the first check that
    fails:

    key_invalid, receipt_invalid, entry_malformed, entry_not_canonical, entry_mismatch, leaf_hash_mismatch,
    checkpoint_invalid, tree_mismatch, inclusion_failed, checkpoint_signature; rotation_invalid (the receipt's leaf
    is a key.rotated one without a valid handover), key_retired (a retired key signed a tree past its bound: the
    receipt's leaf, when it is the rotation that retired it, or its retired_at), key_unbounded (two keys given
    without a bound, or the rotation leaf hands the log to a key not given); and against a held checkpoint
    origin_mismatch, checkpoint_mismatch (another size: ask for ?tree_size=) or fork (same size, another root).
    """
    trusted = trusted_keys(keys)
    if isinstance(receipt, (str, bytes)):
        try:
            receipt = json.loads(receipt)
        except ValueError:
            raise VerificationError("receipt_invalid", "the receipt is not JSON") from None

    # 1. The shape: exactly the members of FORMAT.md §9.
    def invalid(why: str) -> VerificationError:
        return VerificationError("receipt_invalid", f"the receipt {why}")

    if not isinstance(receipt, dict):
        raise invalid("is not a JSON object")
    for name in receipt:
        if name not in _FIELDS:
            raise invalid(f"has an unexpected member {name!r}")
    for name in _FIELDS:
        if name not in _OPTIONAL and name not in receipt:
            raise invalid(f"has no {name}")
    if receipt["object"] != "audit.receipt":
        raise invalid(f"object is {receipt['object']!r}, not \"audit.receipt\"")
    event_id, index, leaf, claimed_leaf_hash = receipt["event_id"], receipt["index"], receipt["leaf"], receipt["leaf_hash"]
    claimed_chain_hash, tree_size, root, note = receipt.get("chain_hash"), receipt["tree_size"], receipt["root"], receipt["checkpoint"]
    if not isinstance(event_id, str) or event_id == "":
        raise invalid("event_id is not a non-empty string")
    if not is_index(index):
        raise invalid("index is not a non-negative safe integer")
    for name, value in (("leaf", leaf), ("leaf_hash", claimed_leaf_hash)):
        if not isinstance(value, str):
            raise invalid(f"{name} is not a string")
    if "chain_hash" in receipt and not isinstance(claimed_chain_hash, str):
        raise invalid("chain_hash is not a string")
    if not is_index(tree_size):
        raise invalid("tree_size is not a non-negative safe integer")
    for name, value in (("root", root), ("checkpoint", note)):
        if not isinstance(value, str):
            raise invalid(f"{name} is not a string")
    proof_text = receipt["inclusion_proof"]
    if not isinstance(proof_text, list) or len(proof_text) > _MAX_PROOF_HASHES:
        raise invalid(f"inclusion_proof is not an array of at most {_MAX_PROOF_HASHES} hashes")
    proof = []
    for i, text in enumerate(proof_text):
        node = standard_base64(text)
        if node is None or len(node) != 32:
            raise invalid(f"inclusion_proof[{i}] is not base64 of 32 bytes")
        proof.append(node)
    index, tree_size = int(index), int(tree_size)

    # 2. The entry: the leaf exactly as the log wrote it, and the one the receipt says it is.
    decoded = decode_leaf(leaf)
    if decoded.index != index:
        raise VerificationError("entry_mismatch", f"the leaf holds index {decoded.index}, the receipt says {index}")
    if decoded.event["id"] != event_id:
        raise VerificationError("entry_mismatch", f"the leaf holds event {decoded.event['id']!r}, the receipt says {event_id!r}")

    # 3. The leaf hash, recomputed: the receipt's own copies are only compared with it.
    leaf_bytes = utf8(leaf)
    computed = leaf_hash(leaf_bytes)
    if standard_base64(claimed_leaf_hash) != computed:
        raise VerificationError("leaf_hash_mismatch", "leaf_hash is not the base64 of SHA-256(0x00 ‖ leaf)")
    if claimed_chain_hash is not None and claimed_chain_hash != hashlib.sha256(leaf_bytes).hexdigest():
        raise VerificationError("leaf_hash_mismatch", "chain_hash is not the hex of SHA-256(leaf)")

    # 4. The inclusion proof, against the tree the checkpoint's text names (its signature is checked next).
    try:
        tree = parse_checkpoint(note)
    except VerificationError as error:
        raise VerificationError("checkpoint_invalid", f"the receipt's checkpoint: {error.reason}") from None
    tree_root = to_base64(tree.root)
    if tree_size != tree.size or root != tree_root:
        raise VerificationError("tree_mismatch", f"tree_size and root ({tree_size}, {root}) are not the checkpoint's ({tree.size}, {tree_root})")
    if index >= tree.size:
        raise VerificationError("inclusion_failed", f"index {index} is outside the checkpoint's tree of {tree.size} leaves")
    if not verify_inclusion(index, tree.size, computed, proof, tree.root):
        raise VerificationError("inclusion_failed", f"inclusion_proof does not lead from the leaf at index {index} to the root of the tree of {tree.size} leaves")

    # 5. The checkpoint is the log's: signed by a key the caller trusts.
    signed = verify_with(note, trusted, "the receipt's checkpoint")

    # 6. The key at the size it signed: a retired key signs no tree past its rotation (key_terms.py). The leaf is the
    # one leaf verified here: when it is itself a rotation, it bounds the key it retires.
    terms = KeyTerms(trusted, rotation_of(decoded.event, index, signed.checkpoint.origin))
    terms.check(signed.checkpoint.size, signed.key, "the receipt's checkpoint")

    # 7. The tree the caller holds, if any: the receipt must be for exactly that one.
    held = held_checkpoint is not None
    if held_checkpoint is not None:
        yours = verify_with(held_checkpoint, trusted, "the checkpoint you hold")
        terms.check(yours.checkpoint.size, yours.key, "the checkpoint you hold")
        mine = yours.checkpoint
        if mine.origin != signed.checkpoint.origin:
            raise VerificationError("origin_mismatch", f"the checkpoint you hold is of log {mine.origin!r}, the receipt's of {signed.checkpoint.origin!r}")
        if mine.size != signed.checkpoint.size:
            raise VerificationError(
                "checkpoint_mismatch",
                f"the receipt proves inclusion in the tree of {signed.checkpoint.size} leaves, the checkpoint you hold is of "
                f"{mine.size}: ask for GET /v1/audit/receipt/{event_id}?tree_size={mine.size}",
            )
        if mine.root != signed.checkpoint.root:
            raise VerificationError("fork", f"the checkpoint you hold and the receipt's both have {mine.size} leaves but different roots: the log signed two histories")
    return VerifiedReceipt(
        event_id=event_id,
        kind=decoded.event["kind"],
        index=index,
        origin=signed.checkpoint.origin,
        tree_size=signed.checkpoint.size,
        root=tree_root,
        key=signed.key.identity,
        held=held,
        event=decoded.event,
    )


"""Offline verification of what Atomic's audit log hands out: signed checkpoints and receipts."""

from .checkpoint import Checkpoint, SignedCheckpoint, parse_checkpoint, verify_checkpoint
from .keys import KeyIdentity, PublicKey, public_key_from_jwk, trusted_keys
from .receipt import VerifiedReceipt, verify_receipt

__all__ = [
    "Checkpoint",
    "KeyIdentity",
    "PublicKey",
    "SignedCheckpoint",
    "VerifiedReceipt",
    "parse_checkpoint",
    "public_key_from_jwk",
    "trusted_keys",
    "verify_checkpoint",
    "verify_receipt",
]

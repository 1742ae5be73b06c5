"""Stable per-VEN choices (phase, ack shape, offline): a hash of (seed, purpose, venId).

A hash rather than one RNG stream, so a VEN's choices do not depend on how many VENs a
process runs or in which order they are built.
"""

from __future__ import annotations

import hashlib


def unit_hash(seed: int, purpose: str, ven_id: str) -> float:
    """A number in [0, 1) fixed by (seed, purpose, venId)."""
    digest = hashlib.blake2b(f"{seed}|{purpose}|{ven_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") / 2**64

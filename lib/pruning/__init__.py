"""Lottery-ticket weight pruning (LNAS Variant 1) and architecture-path pruning (LNAS Variant 2)."""

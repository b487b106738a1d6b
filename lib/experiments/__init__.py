"""Typed experiment configs with ``smoke`` / ``cpu`` / ``paper`` profiles and the functions that run them."""

"""Colour science used by the pipeline: spaces, transfer functions, temperature, DNG camera profiles.

Small and numpy-only on purpose (importing colour-science costs ~1 s, too much for a CLI); the
tests check every function here against colour-science.
"""

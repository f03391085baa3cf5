"""The model: frozen dataclasses shared by every layer, built on the standard library alone.

Every timestamp in the model is timezone-aware UTC; sources convert when they read.
"""

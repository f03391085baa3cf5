"""Fixtures for the source tests: ``api_server``, a real HTTP server on 127.0.0.1."""

from tests.sources.apiserver import api_server, other_server

__all__ = ["api_server", "other_server"]

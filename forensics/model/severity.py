"""Severity and confidence: the two ranked scales of a finding, with their lower-case labels
(``high``) as options and JSON write them."""

from __future__ import annotations

from enum import IntEnum


class _Labelled(IntEnum):
    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> _Labelled:
        try:
            return cls[text.strip().upper()]
        except KeyError:
            choices = ", ".join(m.label for m in cls)
            raise ValueError(
                f"unknown {cls.__name__.lower()} {text!r}; use one of {choices}"
            ) from None


class Severity(_Labelled):
    INFO = 0
    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4


class Confidence(_Labelled):
    LOW = 1
    MEDIUM = 2
    HIGH = 3

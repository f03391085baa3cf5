"""Wires the stages of an analysis: load -> prepare -> detect -> gather -> compose -> seal.

``load`` reads the sources, ``prepare`` analyses them into the detectors' ``Context``,
``detect`` runs the rules, ``gather`` reads the evidence the findings point at, ``compose``
assembles the ``Report`` without I/O and ``seal`` cleans and redacts it for the renderers
(``forensics.render``, called by the CLI). Git is asked questions in load, prepare and
gather only.

Everything is read from git objects at the analysed revision, never from the working tree.

The package holds one module per part: ``graphs`` (the graph loaders, shared with ``dag``
and ``history``), ``cached`` (the mining cache around them), ``loading``, ``preparing``,
``gathering`` and ``composing`` (compose and seal). This module runs them in order.
"""

from __future__ import annotations

from forensics import detectors
from forensics.config import AnalyzeConfig, apply_policy
from forensics.detectors.base import Context
from forensics.errors import Diagnostics
from forensics.model.findings import Finding
from forensics.model.report import Report
from forensics.pipeline.composing import compose, seal
from forensics.pipeline.gathering import Evidence, gather
from forensics.pipeline.graphs import history_environments, load_graphs, load_history
from forensics.pipeline.loading import Loaded, Progress, load, silent
from forensics.pipeline.preparing import prepare
from forensics.sources.cache import MiningCache
from forensics.sources.git import GitSource

__all__ = [
    "Evidence",
    "Loaded",
    "Progress",
    "compose",
    "detect",
    "gather",
    "history_environments",
    "load",
    "load_graphs",
    "load_history",
    "open_git",
    "prepare",
    "run",
    "seal",
]


def open_git(cfg: AnalyzeConfig, diag: Diagnostics) -> GitSource:
    """The repository, with its mining cache unless ``--no-cache``."""
    cache = MiningCache.for_repo(cfg.repo, cfg.cache_dir, diag) if cfg.use_cache else None
    return GitSource(cfg.repo, diag, cache=cache)


def run(cfg: AnalyzeConfig, diag: Diagnostics | None = None, progress: Progress = silent) -> Report:
    """Every stage, in order, into one immutable ``Report``. ``cfg.now`` is the only clock.

    ``load`` reads the sources, ``prepare`` analyses them (asking git only about what the
    analysis points at), ``detect`` runs the rules, ``gather`` reads the evidence the
    findings point at (the last git I/O), ``compose`` assembles the report and ``seal``
    cleans and redacts it for the renderers."""
    diag = diag or Diagnostics()
    git = open_git(cfg, diag)
    try:
        loaded = load(cfg, git, diag, progress)
        context = prepare(cfg, git, loaded, diag, progress)
        progress("running the rules")
        findings, hidden = detect(cfg, context)
        progress("composing the report")
        evidence = gather(cfg, git, context, findings, diag, progress)
        return seal(compose(cfg, context, findings, hidden, evidence))
    finally:
        git.close()


def detect(
    cfg: AnalyzeConfig, context: Context
) -> tuple[list[Finding], tuple[tuple[str, int], ...]]:
    """The findings a team wants to see, and how many each reason of the policy hid."""
    return apply_policy(detectors.run(context), cfg.policy)

"""The rule catalogue: every rule's identity, default severity, group and texts, in one place.

``RuleId`` names a rule everywhere in the code; a test keeps ``FXnnn`` literals out of every
other module. ``RULES`` is the catalogue in id order: the README's rule table is checked
against it, reports explain rules from it, and callers ask a rule's ``group`` instead of
keeping lists of ids.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from forensics.model.severity import Severity


class RuleId(StrEnum):
    """A rule's stable id; ``.rule`` is its catalogue entry."""

    FX101 = "FX101"
    FX102 = "FX102"
    FX103 = "FX103"
    FX104 = "FX104"
    FX105 = "FX105"
    FX106 = "FX106"
    FX107 = "FX107"
    FX201 = "FX201"
    FX202 = "FX202"
    FX203 = "FX203"
    FX204 = "FX204"
    FX301 = "FX301"
    FX302 = "FX302"
    FX303 = "FX303"
    FX401 = "FX401"
    FX402 = "FX402"
    FX403 = "FX403"
    FX404 = "FX404"

    @property
    def rule(self) -> Rule:
        return _BY_ID[self]


class RuleGroup(StrEnum):
    """What a rule looks at: the graph at one revision, applied migrations, commit activity,
    or deploys."""

    GRAPH = "graph"
    APPLIED = "applied"
    ACTIVITY = "activity"
    DEPLOY = "deploy"


# Changes to an applied migration (edited, rewired, removed): the file should be put back.
CHANGED_APPLIED = frozenset({RuleId.FX201, RuleId.FX202, RuleId.FX203})
# A burst of commits on migrations (automated or not): someone should stop the pushes.
BURSTS = frozenset({RuleId.FX301, RuleId.FX302})

# Where the rules are documented: the README's rule table, one row per rule.
DOC_ANCHOR = "README.md#rules"


@dataclass(frozen=True)
class Rule:
    """One rule. ``title`` is its one-line summary (reports, SARIF), ``explanation`` is said
    once in plain words in reports, ``help`` is its row in the README's rule table."""

    id: RuleId
    name: str
    severity: Severity
    group: RuleGroup
    title: str
    explanation: str
    help: str

    @property
    def doc_anchor(self) -> str:
        return DOC_ANCHOR


RULES: tuple[Rule, ...] = (
    Rule(
        RuleId.FX101,
        "multiple-heads",
        Severity.HIGH,
        RuleGroup.GRAPH,
        "More than one head that is not an intended labelled branch",
        (
            "Alembic's `upgrade head` needs exactly one head. Two branches that both end in a "
            "head, without distinct branch labels (an expand/contract layout has them), make "
            "every deploy that runs migrations fail until a merge revision joins them."
        ),
        (
            "more than one head that is not an intended labelled branch: `alembic upgrade head` "
            "fails"
        ),
    ),
    Rule(
        RuleId.FX102,
        "duplicate-revision",
        Severity.HIGH,
        RuleGroup.GRAPH,
        "Two files declare the same revision id",
        (
            "Alembic keys migrations by revision id. When two files declare the same id, one "
            "silently shadows the other, so a migration never runs, or runs in the wrong place."
        ),
        "two files declare the same revision id; one silently shadows the other",
    ),
    Rule(
        RuleId.FX103,
        "missing-parent",
        Severity.CRITICAL,
        RuleGroup.GRAPH,
        "A down_revision or depends_on names a revision that does not exist",
        (
            "Alembic cannot place a migration whose parent is missing; it stops with an error "
            "before running anything."
        ),
        "`down_revision` or `depends_on` names a revision that does not exist",
    ),
    Rule(
        RuleId.FX104,
        "revision-cycle",
        Severity.CRITICAL,
        RuleGroup.GRAPH,
        "The revision graph has a cycle",
        (
            "A migration that is, through its parents, its own ancestor has no order in which it "
            "could run; Alembic refuses the whole graph."
        ),
        "the graph has a cycle",
    ),
    Rule(
        RuleId.FX105,
        "unparseable-migration",
        Severity.CRITICAL,
        RuleGroup.GRAPH,
        "A migration file does not parse",
        (
            "Alembic imports every file in the versions folder. A syntax error in any of them "
            "makes every deploy that runs migrations fail."
        ),
        "a migration file does not parse: every deploy that runs migrations fails",
    ),
    Rule(
        RuleId.FX106,
        "missing-revision-metadata",
        Severity.CRITICAL,
        RuleGroup.GRAPH,
        "A file in a versions folder has no literal revision",
        (
            "Alembic reads `revision` from every file in the versions folder; a file without one "
            "stops Alembic from loading the environment."
        ),
        "a file in a versions folder has no literal `revision`",
    ),
    Rule(
        RuleId.FX107,
        "unresolved-metadata",
        Severity.MEDIUM,
        RuleGroup.GRAPH,
        "down_revision, branch_labels or depends_on is not a literal",
        (
            "The value could not be read without running the file, so the graph drawn here may "
            "be incomplete around it. Alembic itself may still accept it."
        ),
        "`down_revision`, `branch_labels` or `depends_on` is not a literal",
    ),
    Rule(
        RuleId.FX201,
        "applied-migration-modified",
        Severity.HIGH,
        RuleGroup.APPLIED,
        "An applied migration's file changed after it was applied",
        (
            "Alembic records only the revision id of what it applied, never the content. Once a "
            "migration has run in production, editing its file changes nothing there: the new "
            "code never runs in production, while fresh databases get something else. Put the "
            "file back and carry the change forward in a new migration."
        ),
        "an applied migration's file changed after it was applied (its kind says how)",
    ),
    Rule(
        RuleId.FX202,
        "applied-migration-rewired",
        Severity.HIGH,
        RuleGroup.APPLIED,
        "An applied migration's revision, down_revision or depends_on changed",
        (
            "Production's alembic_version points into the graph by revision id. Changing the id "
            "or the parents of a migration production already ran rewires the graph under it: "
            "Alembic may no longer find production's revision, or may try to run migrations "
            "again that already ran."
        ),
        "an applied migration's `revision`, `down_revision` or `depends_on` changed",
    ),
    Rule(
        RuleId.FX203,
        "applied-migration-removed",
        Severity.HIGH,
        RuleGroup.APPLIED,
        "An applied migration's file was deleted, and no file declares its revision any more",
        (
            "Production's database went through this migration. Without its file, Alembic cannot "
            "place production in the graph, and a downgrade through it is impossible."
        ),
        "an applied migration's file was deleted or renamed away",
    ),
    Rule(
        RuleId.FX204,
        "production-revision-missing",
        Severity.HIGH,
        RuleGroup.APPLIED,
        "A revision production is at no longer exists in the tree",
        (
            "`alembic upgrade head` starts from the revision in production's alembic_version. "
            "When no file declares it any more, Alembic stops with 'Can't locate revision' and "
            "no deploy can run migrations."
        ),
        "a revision production is at no longer exists in the tree",
    ),
    Rule(
        RuleId.FX301,
        "commit-burst",
        Severity.LOW,
        RuleGroup.ACTIVITY,
        "many commits on the same migration files in a short time",
        (
            "Many commits changed the same migration files within minutes of each other. When "
            "every push deploys, each of them is a deploy attempt; on a migration that is "
            "already applied, each is also an edit production will never run."
        ),
        "many commits on the same migration files in a short time",
    ),
    Rule(
        RuleId.FX302,
        "automation-suspected",
        Severity.MEDIUM,
        RuleGroup.ACTIVITY,
        "a burst with machine-like cadence or templated messages",
        (
            "A burst looks like the work of a loop or an assistant rather than a person: commits "
            "minutes apart at a steady pace, messages from a template, tool trailers. Find and "
            "stop the process before it pushes again."
        ),
        "a burst with machine-like cadence or templated messages",
    ),
    Rule(
        RuleId.FX303,
        "migration-churn",
        Severity.LOW,
        RuleGroup.ACTIVITY,
        "one migration edited far more often than its peers",
        (
            "A migration was edited many times after it was created, far more than the other "
            "migrations of the repository. A migration should be written once; later changes "
            "belong in a new migration."
        ),
        "one migration edited far more often than its peers",
    ),
    Rule(
        RuleId.FX401,
        "failed-deploy-streak",
        Severity.HIGH,
        RuleGroup.DEPLOY,
        "A run of failed deploys (a failure window)",
        (
            "Every deploy between one successful deploy and the next failed. While the window is "
            "open, nothing new reaches production: it keeps running the last successful deploy."
        ),
        "a failure window",
    ),
    Rule(
        RuleId.FX402,
        "suspect-change",
        Severity.HIGH,
        RuleGroup.DEPLOY,
        "The commits that most likely caused a failure window",
        (
            "The commits that the first failed deploy shipped and the last successful one did "
            "not (by ancestry, not by time), ranked: a commit that left the migration graph "
            "broken first, then an edit to an applied migration, then a new migration, then "
            "everything else; a commit whose lines a later fix had to change (SZZ blame) ranks "
            "higher. Commits after the first failure are listed apart: they can only have kept "
            "the deploys failing or tried to fix them."
        ),
        "ranked commits that most likely caused a failure window",
    ),
    Rule(
        RuleId.FX403,
        "deployed-broken-migrations",
        Severity.MEDIUM,
        RuleGroup.DEPLOY,
        "A deploy shipped a commit whose migration graph was broken",
        (
            "With a broken graph `alembic upgrade head` stops before running anything. A deploy "
            "of such a commit fails if it runs migrations; if it went live anyway, its "
            "migrations cannot have run, and the database is behind the code."
        ),
        (
            "a deploy shipped a commit whose migration graph was broken; if it went live, its "
            "migrations cannot have run"
        ),
    ),
    Rule(
        RuleId.FX404,
        "deploy-failure-cause",
        Severity.HIGH,
        RuleGroup.DEPLOY,
        "Why the deploys failed, in their own logs",
        (
            "The logs of a window's failed deploys are matched against a catalogue of what "
            "Alembic, the database drivers, Python and the deploy platforms print (several "
            "heads, an unknown revision, an object that already exists, a migration that does "
            "not import, a lock timeout, an out-of-memory kill...). The first line that shows "
            "each class is quoted as evidence. A window whose logs point away from migrations is "
            "probably not a migration incident."
        ),
        (
            "the failed deploys of a window, classified from their own logs (multiple heads, "
            "unknown revision, object exists, syntax, timeout, out of memory...), with the log "
            "line that shows it"
        ),
    ),
)
_BY_ID = {rule.id: rule for rule in RULES}


def rule(rule_id: str) -> Rule:
    """The catalogue entry of ``rule_id``; ``KeyError`` for an id that is not a rule."""
    try:
        return _BY_ID[RuleId(rule_id)]
    except ValueError:
        raise KeyError(rule_id) from None


def in_group(group: RuleGroup) -> tuple[Rule, ...]:
    return tuple(r for r in RULES if r.group is group)


def ids_in(group: RuleGroup) -> frozenset[RuleId]:
    return frozenset(r.id for r in RULES if r.group is group)

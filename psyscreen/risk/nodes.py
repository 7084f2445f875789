"""Rule nodes: one class per kind of condition, each with everything a kind means.

A profile's rules are parsed into :class:`~psyscreen.risk.conditions.When` models (pure
data); :func:`node_of` turns one into a tree of nodes. Every node answers, for its kind:

- ``refs()``: the (scale, field) pairs it reads (``"class"``: a band class), for the
  missing-data causes; ``instruments()`` and ``check()``: for profile validation;
- ``evaluate(ctx)``: a boolean mask over the rows; a row whose data the node needs is
  missing never fires (a missing band class is in no class, a missing score fails every
  comparison);
- ``explain(ctx, r)``: the names (scales, checks; never values) that made it fire for row
  ``r``, shared by the Chinese and English reasons;
- ``evidence(builder, i)``: the typed evidence of a fired node for a screening record;
- ``evidence_key(builder)``: per row, all that ``evidence`` depends on (the records build
  the evidence once per distinct key);
- ``text_inputs(ctx)``: further per-row masks that ``explain`` depends on.

The evaluator, the records and the profile checks walk nodes through this interface only.

Example:
    >>> from psyscreen.risk.conditions import When
    >>> node = node_of(When.model_validate(
    ...     {"any_of": [{"critical": {}}, {"score": {"scale": "phq9.total", "ge": 20}}]}))
    >>> [n.kind for n in node.walk()], node.refs()
    (['any_of', 'critical', 'score'], [('phq9.total', 'raw')])
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

import numpy as np

from ..definitions import _unique
from ..scoring import condition_mask
from .conditions import (
    BandCond,
    BatteryEntry,
    CountCond,
    CriticalCond,
    Rule,
    ScoreCond,
    ValidityCond,
    When,
)

if TYPE_CHECKING:
    from .profile import RiskProfile
    from .records import Evidence
    from .views import ScaleView

Flags = dict[tuple[str, str], np.ndarray]


class Context(Protocol):
    """What nodes read while a batch of rows is evaluated (the evaluator provides it)."""

    @property
    def n(self) -> int: ...
    @property
    def fired(self) -> dict[Node, np.ndarray]: ...
    @property
    def critical(self) -> Flags: ...
    @property
    def validity(self) -> Flags: ...
    def number(self, name: str) -> np.ndarray: ...
    def scale(self, ref: str) -> ScaleView: ...
    def in_class(self, ref: str, classes: Sequence[str]) -> np.ndarray: ...
    def screening_scales(self) -> list[str]: ...


class EvidenceBuilder(Protocol):
    """What nodes need to build evidence for one row (the record builder provides it)."""

    @property
    def critical(self) -> Flags: ...
    @property
    def validity(self) -> Flags: ...
    def fired(self, node: Node, i: int) -> bool: ...
    def fired_rows(self, node: Node) -> list[bool]: ...
    def scale_key(self, ref: str) -> list[Any]: ...
    def score_key(self, cond: ScoreCond) -> list[Any]: ...
    def band_classes(self, ref: str) -> list[Any]: ...
    def scale_evidence(self, i: int, ref: str) -> Evidence: ...
    def check_evidence(self, kind: str, inst_id: str, check_id: str) -> Evidence: ...
    def score_evidence(self, i: int, cond: ScoreCond) -> Evidence: ...
    def count_refs(self, cond: CountCond) -> list[str]: ...
    def band_class(self, i: int, ref: str) -> Any: ...


def fire(node: Node, ctx: Context) -> np.ndarray:
    """``node.evaluate(ctx)``, remembered in ``ctx.fired`` (explain and evidence read it)."""
    m = node.evaluate(ctx)
    ctx.fired[node] = m
    return m


class Node:
    """A condition of a rule. Subclasses: one per key of :class:`When`."""

    kind: ClassVar[str]
    #: usable for a child whose battery is unknown (reads no score, band or validity check)
    fallback_safe: ClassVar[bool] = False
    children: tuple[Node, ...] = ()

    def walk(self) -> Iterator[Node]:
        """This node and all nested nodes, depth first."""
        yield self
        for child in self.children:
            yield from child.walk()

    def scales(self) -> list[str]:
        """Scales (``inst.scale``) this node names itself (not its children)."""
        return []

    def instruments(self) -> list[str]:
        """Instruments this node names itself (not its children)."""
        return [ref.split(".", 1)[0] for ref in self.scales()]

    def refs(self) -> list[tuple[str, str]]:
        """(scale, field) pairs the tree reads; ``"class"``: the band class."""
        out: list[tuple[str, str]] = []
        for child in self.children:
            out += [x for x in child.refs() if x not in out]
        return out

    def check(self, profile: RiskProfile, rule_id: str) -> None:
        """Raise ``ValueError`` if the node names a scale or check the battery lacks."""
        for ref in self.scales():
            inst_id, scale_id = ref.split(".", 1)
            if scale_id not in {s.id for s in profile.instrument(inst_id).scales}:
                raise ValueError(f"rule {rule_id!r}: unknown scale {ref!r}")

    def evaluate(self, ctx: Context) -> np.ndarray:
        """Per row: does the condition hold? (bool array of length ``ctx.n``)."""
        raise NotImplementedError

    def explain(self, ctx: Context, r: int) -> list[str]:
        """Names of what made the node fire for row ``r`` (empty if it did not fire)."""
        raise NotImplementedError

    def evidence(self, b: EvidenceBuilder, i: int) -> list[Evidence]:
        """Evidence of a fired node for row ``i`` (empty if it did not fire)."""
        raise NotImplementedError

    def evidence_key(self, b: EvidenceBuilder) -> list[Any]:
        """Per row, a hashable value that :meth:`evidence` depends on entirely: two rows
        with equal keys get the same evidence."""
        raise NotImplementedError

    def text_inputs(self, ctx: Context) -> list[np.ndarray]:
        """Masks besides the fired masks that :meth:`explain` depends on."""
        return []


class _CheckNode(Node):
    """Critical item or validity check: fires when a selected check of the battery fired."""

    _what: ClassVar[str]  # for messages
    _checks: ClassVar[str]  # the instrument's attribute that lists them

    def __init__(self, cond: CriticalCond | ValidityCond):
        self.cond = cond

    def instruments(self) -> list[str]:
        return [self.cond.instrument] if self.cond.instrument is not None else []

    def flags(self, ctx: Context | EvidenceBuilder) -> Flags:
        raise NotImplementedError

    def _known_ids(self, profile: RiskProfile) -> set[str]:
        return {
            c.id
            for e in profile.battery
            if self.cond.instrument in (None, e.instrument)
            for c in getattr(profile.instrument(e.instrument), self._checks)
        }

    def check(self, profile: RiskProfile, rule_id: str) -> None:
        if self.cond.id is not None and self.cond.id not in self._known_ids(profile):
            raise ValueError(f"rule {rule_id!r}: unknown {self._what}")

    def _selected(self, inst_id: str, check_id: str) -> bool:
        return self.cond.instrument in (None, inst_id) and self.cond.id in (None, check_id)

    def evaluate(self, ctx: Context) -> np.ndarray:
        m = np.zeros(ctx.n, bool)
        for (inst_id, cid), fired in self.flags(ctx).items():
            if self._selected(inst_id, cid):
                m |= fired
        return m

    def explain(self, ctx: Context, r: int) -> list[str]:
        if not ctx.fired[self][r]:
            return []
        return [
            f"{i}.{c}" for (i, c), f in self.flags(ctx).items() if self._selected(i, c) and f[r]
        ]

    def evidence(self, b: EvidenceBuilder, i: int) -> list[Evidence]:
        if not b.fired(self, i):
            return []
        return [
            b.check_evidence(self.kind, inst_id, cid)
            for (inst_id, cid), fired in self.flags(b).items()
            if self._selected(inst_id, cid) and fired[i]
        ]

    def evidence_key(self, b: EvidenceBuilder) -> list[Any]:
        flags = [f.tolist() for (i, c), f in self.flags(b).items() if self._selected(i, c)]
        return list(zip(b.fired_rows(self), *flags))


class CriticalNode(_CheckNode):
    """``critical``: a critical item of the battery fired (optionally one instrument / id)."""

    kind = "critical"
    fallback_safe = True
    _what = "critical item"
    _checks = "critical_items"

    def flags(self, ctx: Context | EvidenceBuilder) -> Flags:
        return ctx.critical


class ValidityNode(_CheckNode):
    """``validity``: a validity check of the battery fired (optionally one instrument / id)."""

    kind = "validity"
    _what = "validity check"
    _checks = "validity_checks"

    def flags(self, ctx: Context | EvidenceBuilder) -> Flags:
        return ctx.validity


class CountNode(Node):
    """``count``: at least ``at_least`` scales have a band class in ``band_class``."""

    kind = "count"

    def __init__(self, cond: CountCond):
        self.cond = cond

    def scales(self) -> list[str]:
        return list(self.cond.scales or [])

    def refs(self) -> list[tuple[str, str]]:
        # the default (all screening scales) is required by the battery anyway
        return [(ref, "class") for ref in self.cond.scales or []]

    def _refs(self, ctx: Context) -> list[str]:
        return list(self.cond.scales) if self.cond.scales is not None else ctx.screening_scales()

    def evaluate(self, ctx: Context) -> np.ndarray:
        total = np.zeros(ctx.n, dtype=np.int64)
        for ref in self._refs(ctx):
            total += ctx.in_class(ref, self.cond.band_class)
        return total >= self.cond.at_least

    def explain(self, ctx: Context, r: int) -> list[str]:
        if not ctx.fired[self][r]:
            return []
        return [ref for ref in self._refs(ctx) if ctx.scale(ref).klass[r] in self.cond.band_class]

    def evidence(self, b: EvidenceBuilder, i: int) -> list[Evidence]:
        if not b.fired(self, i):
            return []
        return [
            b.scale_evidence(i, ref)
            for ref in b.count_refs(self.cond)
            if b.band_class(i, ref) in self.cond.band_class
        ]

    def evidence_key(self, b: EvidenceBuilder) -> list[Any]:
        classes = self.cond.band_class
        cited = [
            [k if c in classes else None for k, c in zip(b.scale_key(ref), b.band_classes(ref))]
            for ref in b.count_refs(self.cond)
        ]
        return list(zip(b.fired_rows(self), *cited))

    def text_inputs(self, ctx: Context) -> list[np.ndarray]:
        return [ctx.in_class(ref, self.cond.band_class) for ref in self._refs(ctx)]


class BandNode(Node):
    """``band``: the scale's band class (or band code) is one of those given."""

    kind = "band"

    def __init__(self, cond: BandCond):
        self.cond = cond

    def scales(self) -> list[str]:
        return [self.cond.scale]

    def refs(self) -> list[tuple[str, str]]:
        return [(self.cond.scale, "class")]

    def evaluate(self, ctx: Context) -> np.ndarray:
        v = ctx.scale(self.cond.scale)
        if self.cond.band_class is not None:
            return v.in_class(self.cond.band_class)
        return np.isin(v.band, self.cond.band or [])

    def explain(self, ctx: Context, r: int) -> list[str]:
        return [self.cond.scale] if ctx.fired[self][r] else []

    def evidence(self, b: EvidenceBuilder, i: int) -> list[Evidence]:
        return [b.scale_evidence(i, self.cond.scale)] if b.fired(self, i) else []

    def evidence_key(self, b: EvidenceBuilder) -> list[Any]:
        return list(zip(b.fired_rows(self), b.scale_key(self.cond.scale)))


class ScoreNode(Node):
    """``score``: a comparison on the raw, T, z or percentile score of a scale."""

    kind = "score"

    def __init__(self, cond: ScoreCond):
        self.cond = cond

    def scales(self) -> list[str]:
        return [self.cond.scale]

    def refs(self) -> list[tuple[str, str]]:
        return [(self.cond.scale, self.cond.field)]

    def evaluate(self, ctx: Context) -> np.ndarray:
        values = ctx.number(f"{self.cond.scale}.{self.cond.field}")
        return np.asarray(condition_mask(values, self.cond.condition), dtype=bool)

    def explain(self, ctx: Context, r: int) -> list[str]:
        return [self.cond.scale] if ctx.fired[self][r] else []

    def evidence(self, b: EvidenceBuilder, i: int) -> list[Evidence]:
        return [b.score_evidence(i, self.cond)] if b.fired(self, i) else []

    def evidence_key(self, b: EvidenceBuilder) -> list[Any]:
        return list(zip(b.fired_rows(self), b.score_key(self.cond)))


class _GroupNode(Node):
    fallback_safe = True

    def __init__(self, children: Sequence[Node]):
        self.children = tuple(children)

    def explain(self, ctx: Context, r: int) -> list[str]:
        if not ctx.fired[self][r]:
            return []
        out: list[str] = []
        for child in self.children:
            out += [x for x in child.explain(ctx, r) if x not in out]
        return out

    def evidence(self, b: EvidenceBuilder, i: int) -> list[Evidence]:
        if not b.fired(self, i):
            return []
        out: list[Evidence] = []
        for child in self.children:
            out.extend(child.evidence(b, i))
        return out

    def evidence_key(self, b: EvidenceBuilder) -> list[Any]:
        return list(zip(b.fired_rows(self), *(c.evidence_key(b) for c in self.children)))


class AnyOfNode(_GroupNode):
    """``any_of``: at least one nested condition holds."""

    kind = "any_of"

    def evaluate(self, ctx: Context) -> np.ndarray:
        m = np.zeros(ctx.n, bool)
        for child in self.children:
            m |= fire(child, ctx)
        return m


class AllOfNode(_GroupNode):
    """``all_of``: every nested condition holds."""

    kind = "all_of"

    def evaluate(self, ctx: Context) -> np.ndarray:
        m = np.ones(ctx.n, bool)
        for child in self.children:
            m &= fire(child, ctx)
        return m


def node_of(w: When) -> Node:
    """The node tree of a parsed condition (a new tree per call; masks are keyed by node identity).

    Example:
        >>> node_of(When.model_validate({"critical": {"instrument": "phq9"}})).instruments()
        ['phq9']
    """
    if w.critical is not None:
        return CriticalNode(w.critical)
    if w.validity is not None:
        return ValidityNode(w.validity)
    if w.count is not None:
        return CountNode(w.count)
    if w.band is not None:
        return BandNode(w.band)
    if w.score is not None:
        return ScoreNode(w.score)
    if w.any_of is not None:
        return AnyOfNode([node_of(c) for c in w.any_of])
    assert w.all_of is not None  # When accepts exactly one key
    return AllOfNode([node_of(c) for c in w.all_of])


def check_group(
    battery: list[BatteryEntry], rules: list[Rule], codes: set[str], lowest: str, keys: set[str]
) -> None:
    """Cross-references of one battery and its rules (the profile's or a route's).

    Raises ``ValueError`` for an unknown level or citation, a rule on the lowest level, or
    an instrument that is not in the battery.
    """
    _unique([b.instrument for b in battery], "battery instrument")
    _unique([r.id for r in rules], "rule id")
    names = {b.instrument for b in battery}
    for r in rules:
        if r.level not in codes:
            raise ValueError(f"rule {r.id!r}: unknown level {r.level!r}")
        if r.level == lowest:
            raise ValueError(f"rule {r.id!r}: a rule cannot assign the lowest level")
        if r.source is not None and r.source not in keys:
            raise ValueError(f"rule {r.id!r}: unknown citation {r.source!r}")
        for node in node_of(r.when).walk():
            for inst in node.instruments():
                if inst not in names:
                    raise ValueError(f"rule {r.id!r}: instrument {inst!r} is not in the battery")

"""A q-digest of non-negative integer scores, as Elastic's normaliser keeps its history.

Why a q-digest and not an exact histogram: Elastic's normalised scores are read from the
digest's *bounds* on the c.d.f. (the fraction of history certainly below a score and the
fraction possibly at or below it), and from its compression, which spreads rare high
scores over ranges of values. An exact histogram gives different scores for tied and for
isolated high values (ml-cpp ``CAnomalyScoreTest`` ``testNormalizeScoresNearZero``), so the
digest is reproduced here: the algorithm of Shrivastava et al. (2004) as ml-cpp's
``maths::common::CQDigest`` (commit 7a29b4b34) applies it, re-implemented in our words.

The structure, in short:

- Nodes are dyadic ranges ``[min, max]`` (span a power of two) of a binary tree whose root
  starts as ``[0, 1]`` and doubles its range when a larger value arrives. Only nodes with
  a count (plus the root) are stored; each stored node lists its stored descendants that
  have no stored ancestor below it, ordered by (max, span).
- A value is added as a count on its leaf ``[v, v]``. When ``n // k`` changes (or the root
  expands) the whole tree is compressed, else only the new leaf: going from small spans to
  large, a node whose count together with its sibling's and its parent's is below
  ``n // k`` is merged into the parent.
- Ageing multiplies every count by a factor and rounds it, never below 1 (a score once
  seen is not forgotten by rounding), then compresses.
- ``cdf(x)`` gives a lower bound (counts of nodes wholly at or below x) and an upper bound
  (also the nodes whose range straddles x), as fractions of n.
"""

from __future__ import annotations

import heapq
import math
from typing import Any, Iterable

from ctdetect.engine.anomaly import stats

UINT32_MAX = 2**32 - 1


def cdf_quantile(n: float, p: float, q: float) -> float:
    """The ``q`` quantile of the Beta(n·p + 1/3, n·(1 − p) + 1/3) credible interval of a c.d.f. value ``p``."""
    if q == 0.5:
        return p
    try:
        return stats.beta_ppf(q, n * p + 1.0 / 3.0, n * (1.0 - p) + 1.0 / 3.0)
    except (ValueError, ArithmeticError):  # pragma: no cover - scipy returns nan, not raises
        return p


class _Node:
    """One dyadic range of the digest with its own count and its subtree's."""

    __slots__ = ("lo", "hi", "count", "subtree", "parent", "children", "alive")

    def __init__(self, lo: int, hi: int, count: int, subtree: int) -> None:
        self.lo = lo
        self.hi = hi
        self.count = count
        self.subtree = subtree
        self.parent: _Node | None = None
        self.children: list[_Node] = []
        self.alive = True

    # -- geometry of dyadic ranges
    def span(self) -> int:
        return self.hi - self.lo + 1

    def is_left_child(self) -> bool:
        return (self.lo // self.span()) % 2 == 0

    def contains(self, lo: int, hi: int) -> bool:
        """Strictly larger range holding [lo, hi]."""
        return (self.lo < lo and self.hi >= hi) or (self.lo <= lo and self.hi > hi)

    def is_parent_of(self, node: "_Node") -> bool:
        return self.contains(node.lo, node.hi) and self.span() == 2 * node.span()

    def _index(self, hi: int, span: int) -> int:
        """First child not ordered before (hi, span)."""
        children = self.children
        a, b = 0, len(children)
        while a < b:
            mid = (a + b) // 2
            c = children[mid]
            if c.hi < hi or (c.hi == hi and c.span() < span):
                a = mid + 1
            else:
                b = mid
        return a

    def sibling(self, node: "_Node") -> "_Node | None":
        span = node.span()
        lo, hi = (node.lo + span, node.hi + span) if node.is_left_child() else (node.lo - span, node.hi - span)
        i = self._index(hi, span)
        if i < len(self.children):
            c = self.children[i]
            if c.lo == lo and c.hi == hi:
                return c
        return None

    def take_descendants(self, node: "_Node") -> None:
        """Adopt ``node``'s children that fall inside this range (all, if it holds ``node``)."""
        if not node.children:
            return
        if not self.contains(node.lo, node.hi):
            take = [c for c in node.children if self.contains(c.lo, c.hi)]
            if not take:
                return
            node.children = [c for c in node.children if not self.contains(c.lo, c.hi)]
            for c in take:
                c.parent = self
                self.subtree += c.subtree
        else:
            take = node.children
            node.children = []
            for c in take:
                c.parent = self
        merged = self.children + take
        merged.sort(key=lambda c: (c.hi, c.span()))
        self.children = merged

    def insert(self, lo: int, hi: int, count: int, subtree: int) -> "_Node":
        node = self
        while True:
            node.subtree += subtree
            if node.lo == lo and node.hi == hi:
                node.count += count
                return node
            i = node._index(hi, hi - lo + 1)
            nxt = None
            for c in node.children[i:]:
                if c.contains(lo, hi) or (c.lo == lo and c.hi == hi):
                    nxt = c
                    break
            if nxt is None:
                new = _Node(lo, hi, count, subtree)
                new.parent = node
                node.children.insert(i, new)
                if lo != hi:
                    new.take_descendants(node)
                return new
            node = nxt

    def detach(self) -> None:
        parent = self.parent
        assert parent is not None
        parent.children.remove(self)
        parent.take_descendants(self)
        self.parent = None
        self.alive = False

    def compress(self, factor: int) -> "_Node | None":
        """Merge this node (and its sibling) into its parent range when their counts are small."""
        anc = self.parent
        if anc is None:
            return None
        sib = anc.sibling(self)
        is_parent = anc.is_parent_of(self)
        count = (anc.count if is_parent else 0) + self.count + (sib.count if sib is not None else 0)
        if count >= factor:
            return None
        if is_parent:
            anc.count = count
            self.detach()
            if sib is not None:
                sib.detach()
            return anc
        self.count = count
        span = self.span()
        if self.is_left_child():
            self.hi += span
        else:
            self.lo -= span
        self.take_descendants(anc)
        if sib is not None:
            sib.detach()
        return self

    def post_order(self, out: list["_Node"]) -> None:
        stack: list[tuple[_Node, int]] = [(self, 0)]
        while stack:
            node, i = stack.pop()
            if i < len(node.children):
                stack.append((node, i + 1))
                stack.append((node.children[i], 0))
            else:
                out.append(node)

    def pre_order(self) -> Iterable["_Node"]:
        stack = [self]
        while stack:
            node = stack.pop()
            yield node
            stack.extend(reversed(node.children))

    def age(self, factor: float) -> int:
        total = 0
        for c in self.children:
            total += c.age(factor)
        if self.count > 0:
            self.count = int(max(self.count * factor + 0.5, 1.0))
        self.subtree = total + self.count
        return self.subtree


class QDigest:
    """A q-digest with compression parameter ``k`` and an exponential forgetting rate."""

    def __init__(self, k: int = 201, decay_rate: float = 0.0) -> None:
        self.k = k
        self.n = 0
        self.decay_rate = decay_rate
        self.root = _Node(0, 1, 0, 0)
        # the leaf [v, v] last made for each value: most scores added repeat one already held
        self._leaves: dict[int, _Node] = {}

    # ------------------------------------------------------------------ updates
    def add(self, value: int, count: int = 1) -> None:
        """Add ``count`` observations of ``value``."""
        self.n += count
        expanded = self._expand(value)
        leaf = self._leaves.get(value)
        if leaf is not None and leaf.alive and leaf.lo == value and leaf.hi == value:
            # the leaf is still stored: the walk down from the root would end there, adding
            # to the subtree count of each node on the way, which are its ancestors
            leaf.count += count
            node: _Node | None = leaf
            while node is not None:
                node.subtree += count
                node = node.parent
        else:
            leaf = self._leaves[value] = self.root.insert(value, value, count, count)
        if expanded or self.n // self.k != (self.n - count) // self.k:
            self._compress_all()
        elif leaf.count == count:
            self._compress([leaf])

    def holds_leaf(self, value: int) -> bool:
        """Whether ``value``'s own leaf ``[value, value]`` is stored with a count: adding to
        ``value`` then only raises counts, and compresses nothing unless ``n // k`` changes."""
        leaf = self._leaves.get(value)
        return leaf is not None and leaf.alive and leaf.lo == value and leaf.hi == value and leaf.count > 0 and self.root.hi >= value

    def _expand(self, value: int) -> bool:
        root = self.root
        if root.hi >= value:
            return False
        top = root if root.count == 0 else _Node(root.lo, root.hi, 0, 0)
        step = top.span()
        while True:
            top.hi += step
            step <<= 1
            if top.hi >= value:
                break
        if top is not root:
            root.parent = top
            top.children.append(root)
            top.subtree += root.subtree
            self.root = top
        return True

    def propagate_forwards_by_time(self, time: float) -> None:
        """Age every count by ``exp(−decay_rate·time)`` (rounded, never below 1), then compress."""
        if time < 0.0:
            return
        self.n = self.root.age(math.exp(-self.decay_rate * time))
        self._compress_all()

    def _compress_all(self) -> None:
        for _ in range(3 * self.k + 2):
            nodes: list[_Node] = []
            self.root.post_order(nodes)
            if not self._compress(nodes):
                return

    def _compress(self, nodes: list[_Node]) -> bool:
        # smallest span first, then left to right (the tree is compressed bottom up)
        factor = self.n // self.k
        heap = [(nd.span(), nd.hi, i, nd) for i, nd in enumerate(nodes)]
        heapq.heapify(heap)
        tie = len(heap)
        compressed = False
        while heap:
            node = heapq.heappop(heap)[3]
            if not node.alive:
                continue
            merged = node.compress(factor)
            if merged is not None:
                compressed = True
                tie += 1
                heapq.heappush(heap, (merged.span(), merged.hi, tie, merged))
        return compressed

    # ------------------------------------------------------------------ queries
    def quantile(self, q: float) -> int:
        """The smallest node maximum with at least ``q·n`` counts at or before it (0 if empty)."""
        if self.n == 0:
            return 0
        target = int(q * self.n + 0.5)
        node, left = self.root, 0
        while True:
            for c in node.children:
                if left + c.subtree >= target:
                    node = c
                    break
                left += c.subtree
            else:
                return node.hi

    def _cdf_counts(self, x: int) -> tuple[int, int]:
        lower = upper = 0
        stack = [self.root]
        while stack:
            node = stack.pop()
            if node.hi <= x:
                lower += node.subtree
                upper += node.subtree
            elif node.lo <= x:  # a range straddling x may or may not be at or below it
                upper += node.count
                stack.extend(node.children)
        return lower, upper

    def cdf(self, x: int, confidence: float = 0.0) -> tuple[float, float]:
        """Lower and upper bounds of the fraction of history at or below ``x``."""
        if self.n == 0:
            return 0.0, 0.0
        lower_count, upper_count = self._cdf_counts(x)
        lower = lower_count / self.n
        upper = upper_count / self.n
        if confidence > 0.0:
            lower = cdf_quantile(self.n, lower, (100.0 - confidence) / 200.0)
            upper = cdf_quantile(self.n, upper, (100.0 + confidence) / 200.0)
        return lower, upper

    def _sublevel_set_supremum(self, node: _Node, x: int, result: int) -> int:
        for c in reversed(node.children):
            if c.hi > x:
                result = min(result, c.hi)
            else:
                result = self._sublevel_set_supremum(c, x, result)
                break
        if node.hi > x and node.count > 0:
            result = min(result, node.hi)
        return result

    def _superlevel_set_infimum(self, node: _Node, x: int, result: int) -> int:
        for c in node.children:
            if c.hi < x:
                result = max(result, c.hi)
            else:
                result = self._superlevel_set_infimum(c, x, result)
                break
        if node.hi < x and node.count > 0:
            result = max(result, node.hi)
        return result

    def pdf(self, x: int, confidence: float = 0.0) -> tuple[float, float]:
        """Bounds of the mass per unit at ``x``: the c.d.f. difference between the stored
        range ends nearest below and above ``x``, over their distance."""
        if self.n == 0:
            return 0.0, 0.0
        infimum = self._superlevel_set_infimum(self.root, x, 0)
        supremum = self._sublevel_set_supremum(self.root, x, UINT32_MAX)
        inf_lo, inf_hi = self.cdf(infimum, confidence)
        sup_lo, sup_hi = self.cdf(supremum, confidence)
        width = max(float(supremum - infimum), 1.0)
        return max(sup_lo - inf_hi, 0.0) / width, max(sup_hi - inf_lo, 0.0) / width

    def summary(self) -> list[tuple[int, int]]:
        """(value, cumulative count) at each distinct node maximum, in order."""
        if self.n == 0:
            return []
        nodes: list[_Node] = []
        self.root.post_order(nodes)
        out: list[tuple[int, int]] = []
        last = nodes[0].hi
        count = nodes[0].count
        for node in nodes[1:]:
            if node.hi != last:
                out.append((last, count))
                last = node.hi
            count += node.count
        if not out or out[-1][1] < count:
            out.append((self.root.hi, count))
        return out

    # ------------------------------------------------------------------ state
    def to_state(self) -> dict[str, Any]:
        """``k``, ``n`` and the nodes in pre-order as [min, max, count] (root first)."""
        return {"k": self.k, "n": self.n, "nodes": [[nd.lo, nd.hi, nd.count] for nd in self.root.pre_order()]}

    @classmethod
    def from_nodes(cls, k: int, n: int, nodes: list[tuple[int, int, int]], decay_rate: float) -> "QDigest":
        """Rebuild a digest from its nodes in pre-order, root first (ours or ml-cpp's)."""
        digest = cls(k, decay_rate)
        digest.n = n
        if nodes:
            lo, hi, count = nodes[0]
            digest.root = _Node(lo, hi, count, count)
            for lo, hi, count in nodes[1:]:
                digest.root.insert(lo, hi, count, count)
        return digest

"""``Leaf`` and ``Node`` keep the ``repr`` and equality of the dataclasses they replaced
(``engine.anomaly.slotted``), compiled or not."""

from __future__ import annotations

import dataclasses

from ctdetect.engine.anomaly.detectors.base import Leaf
from ctdetect.engine.anomaly.hierarchy import Node


def _dataclass_twin(record: object) -> object:
    """A dataclass with the record's class name and slots as fields, holding its values."""
    names = record.__class__.__slots__
    twin = dataclasses.make_dataclass(record.__class__.__name__, names)
    return twin(*[getattr(record, name) for name in names])


def test_leaf_and_node_repr_as_their_dataclasses() -> None:
    leaf = Leaf(2, "eu-west-1", "alice", None, 0.004, [3.0], [1.0], {"user.name": ["alice"]},
                multi_bucket_impact=-5.0, influence={("source.ip", "10.0.0.1"): 0.5})
    node = Node(12.5, 0.001, 0.0005, True, [0, 3])
    for record in (leaf, node, Leaf(0, None, None, None, 1.0), Node(0.0, 1.0, 1.0)):
        assert repr(record) == repr(_dataclass_twin(record))


def test_equality_field_by_field_and_only_within_a_class() -> None:
    assert Node(1.0, 0.5, 0.1, False, [1]) == Node(1.0, 0.5, 0.1, False, [1])
    assert Node(1.0, 0.5, 0.1, False, [1]) != Node(1.0, 0.5, 0.1, False, [2])
    assert Leaf(0, "p", "b", None, 0.5) == Leaf(0, "p", "b", None, 0.5)
    assert Leaf(0, "p", "b", None, 0.5) != Leaf(0, "p", "b", None, 0.25)
    assert Node(1.0, 0.5, 0.1).__eq__(Leaf(0, None, None, None, 0.5)) is NotImplemented
    assert Node(1.0, 0.5, 0.1) != "Node"

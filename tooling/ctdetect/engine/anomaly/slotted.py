"""``repr`` and equality of the engine's plain slotted record classes (``Leaf``, ``Node``).

Why: those classes replaced dataclasses on the bucket close's hot path (compiled, they are
C structs built without a Python ``__init__`` frame), and kept the dataclasses' ``repr``
and equality, which tests and digests of whole hierarchies read. Both are read from the
class's ``__slots__`` in order, here once, not written out field by field in each class.
"""

from __future__ import annotations

from typing import Any


def slot_values(record: Any) -> tuple[Any, ...]:
    """The record's slot values, in ``__slots__`` order (the dataclass's field order)."""
    return tuple([getattr(record, name) for name in record.__class__.__slots__])


def slots_repr(record: Any) -> str:
    """``Class(field=value, ...)``, as the dataclass's ``repr``."""
    names = record.__class__.__slots__
    return f"{record.__class__.__name__}(" + ", ".join([f"{name}={value!r}" for name, value in zip(names, slot_values(record))]) + ")"


def slots_equal(record: Any, other: object) -> Any:
    """The dataclass's ``==``: same class and equal fields in order; ``NotImplemented`` for
    another class."""
    if other.__class__ is not record.__class__:
        return NotImplemented
    return slot_values(record) == slot_values(other)

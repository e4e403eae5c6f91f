"""A small MaxMind DB (``.mmdb``) writer, so tests and the shipped default database are ours.

Why our own: ctdetect needs deterministic databases in which chosen IPs map to chosen places
(test fixtures, the synthetic default). The format is public (MaxMind DB File Format
Specification 2.0) and small enough that a dependency-free writer is simpler than adding one.

The file is, in order:

1. a binary search tree over the bits of the address. Each node holds two records (the
   "0" and "1" branch). A record below ``node_count`` points at another node; equal to
   ``node_count`` means "no data"; above it points into the data section at
   ``record - node_count - 16``. Records are 24, 28 or 32 bits, the smallest that fits.
2. sixteen zero bytes separating the tree from the data section;
3. the data section: each record value encoded with a control byte whose top three bits
   give the type (2 string, 3 double, 4 bytes, 5 uint16, 6 uint32, 7 map; 0 means an
   extended type in the next byte, stored as type - 7: 8 int32, 9 uint64, 10 uint128,
   11 array, 14 boolean, 15 float) and whose low five bits give the size (29, 30, 31 mean
   the size continues in 1, 2, 3 more bytes);
4. the marker ``\\xab\\xcd\\xefMaxMind.com`` and the metadata map.

This writer always builds an IPv6 tree (``ip_version`` 6) and stores IPv4 networks under
``::/96`` as MaxMind's readers expect, with ``::ffff:0:0/96`` (IPv4-mapped) pointing at the
same subtree. A more specific network overrides a less specific one it sits in. Identical
records are stored once. Output is byte-for-byte deterministic for the same input.
"""

from __future__ import annotations

import ipaddress
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Protocol, Union

METADATA_MARKER = b"\xab\xcd\xefMaxMind.com"
DATA_SEPARATOR = b"\x00" * 16
# libmaxminddb rejects a build_epoch of 0 as "missing"; a fixed date keeps output deterministic.
DEFAULT_BUILD_EPOCH = 1767225600  # 2026-01-01T00:00:00Z

IPNetwork = Union[ipaddress.IPv4Network, ipaddress.IPv6Network]


class MMDBWriteError(ValueError):
    """An entry cannot be written (bad network or unsupported value); the message says which."""


class HasRecord(Protocol):
    """Anything with a network and a record (e.g. :class:`ctdetect.geoip.table.GeoEntry`)."""

    network: str

    def record(self) -> Mapping[str, Any]: ...


Entry = Union[tuple[str | IPNetwork, Mapping[str, Any]], HasRecord]


# --- data section encoding ---------------------------------------------------------------


def _control(type_id: int, size: int) -> bytes:
    """Control byte(s) for a value of ``type_id`` with payload ``size``."""
    if size < 29:
        head, extra = size, b""
    elif size < 29 + 256:
        head, extra = 29, bytes([size - 29])
    elif size < 285 + 65536:
        head, extra = 30, (size - 285).to_bytes(2, "big")
    elif size < 65821 + 16777216:
        head, extra = 31, (size - 65821).to_bytes(3, "big")
    else:
        raise MMDBWriteError(f"value too large to encode ({size} bytes/items)")
    if type_id <= 7:
        return bytes([(type_id << 5) | head]) + extra
    return bytes([head, type_id - 7]) + extra


def _uint(type_id: int, value: int, max_bytes: int) -> bytes:
    payload = value.to_bytes((value.bit_length() + 7) // 8, "big") if value else b""
    if len(payload) > max_bytes:
        raise MMDBWriteError(f"integer {value} does not fit in {max_bytes} bytes")
    return _control(type_id, len(payload)) + payload


@dataclass(frozen=True)
class Typed:
    """An integer with an explicit MaxMind DB type (``"uint16"``, ``"uint32"``, ``"uint64"``,
    ``"uint128"``, ``"int32"``). libmaxminddb insists on exact types in the metadata, and
    GeoIP2 schemas use e.g. uint32 for ``geoname_id`` and ``autonomous_system_number``."""

    kind: str
    value: int


_TYPED = {"uint16": (5, 2), "uint32": (6, 4), "uint64": (9, 8), "uint128": (10, 16)}


def encode(value: Any) -> bytes:
    """Encode one Python value as a MaxMind DB data-section value.

    str -> utf8_string, bool -> boolean, int -> uint16/uint32/uint64/uint128 (int32 when
    negative), float -> double, bytes -> bytes, dict -> map (str keys), list/tuple -> array.
    """
    if isinstance(value, Typed):
        if value.kind == "int32":
            return _control(8, 4) + struct.pack(">i", value.value)
        if value.kind not in _TYPED or value.value < 0:
            raise MMDBWriteError(f"cannot encode {value!r}")
        type_id, width = _TYPED[value.kind]
        return _uint(type_id, value.value, width)
    if isinstance(value, bool):
        return _control(14, int(value))
    if isinstance(value, str):
        raw = value.encode("utf-8")
        return _control(2, len(raw)) + raw
    if isinstance(value, int):
        if value < 0:
            if value < -(2**31):
                raise MMDBWriteError(f"integer {value} is below int32")
            return _control(8, 4) + struct.pack(">i", value)
        if value < 2**16:
            return _uint(5, value, 2)
        if value < 2**32:
            return _uint(6, value, 4)
        if value < 2**64:
            return _uint(9, value, 8)
        return _uint(10, value, 16)
    if isinstance(value, float):
        return _control(3, 8) + struct.pack(">d", value)
    if isinstance(value, (bytes, bytearray)):
        return _control(4, len(value)) + bytes(value)
    if isinstance(value, Mapping):
        parts = [_control(7, len(value))]
        for key in value:  # insertion order: deterministic for deterministic input
            if not isinstance(key, str):
                raise MMDBWriteError(f"map key {key!r} is not a string")
            parts.append(encode(key))
            parts.append(encode(value[key]))
        return b"".join(parts)
    if isinstance(value, (list, tuple)):
        return _control(11, len(value)) + b"".join(encode(item) for item in value)
    raise MMDBWriteError(f"cannot encode {type(value).__name__} value {value!r}")


# --- search tree ------------------------------------------------------------------------


@dataclass
class _Node:
    children: list[Any] = field(default_factory=lambda: [None, None])  # _Node | int (data id) | None


def _as_v6_bits(network: IPNetwork) -> tuple[int, int]:
    """(address as a 128-bit int, prefix length) in the IPv6 tree; IPv4 lives under ::/96."""
    if network.version == 4:
        return int(network.network_address), 96 + network.prefixlen
    return int(network.network_address), network.prefixlen


def _insert(root: _Node, address: int, prefix: int, data_id: int) -> None:
    node = root
    for depth in range(prefix):
        bit = (address >> (127 - depth)) & 1
        last = depth == prefix - 1
        child = node.children[bit]
        if last:
            if isinstance(child, _Node):
                _fill(child, data_id)  # a less specific network after a more specific one
            else:
                node.children[bit] = data_id
            return
        if not isinstance(child, _Node):
            new = _Node([child, child])  # split a leaf: both halves keep the outer data
            node.children[bit] = new
            child = new
        node = child


def _fill(node: _Node, data_id: int) -> None:
    """Give ``data_id`` to the empty leaves below ``node`` (more specific data is kept)."""
    for i, child in enumerate(node.children):
        if child is None:
            node.children[i] = data_id
        elif isinstance(child, _Node):
            _fill(child, data_id)


def _parse_network(net: str | IPNetwork, index: int) -> IPNetwork:
    if isinstance(net, (ipaddress.IPv4Network, ipaddress.IPv6Network)):
        return net
    try:
        return ipaddress.ip_network(str(net), strict=False)
    except ValueError as exc:
        raise MMDBWriteError(f"entry {index}: {net!r} is not an IP network: {exc}") from None


def _normalise(entries: Iterable[Entry]) -> list[tuple[IPNetwork, Mapping[str, Any]]]:
    out = []
    for index, entry in enumerate(entries):
        if isinstance(entry, tuple):
            if len(entry) != 2:
                raise MMDBWriteError(f"entry {index}: expected (network, record), got {entry!r}")
            net, record = entry
        else:
            net, record = entry.network, entry.record()
        if not isinstance(record, Mapping):
            raise MMDBWriteError(f"entry {index}: record for {net} must be a mapping, got {type(record).__name__}")
        out.append((_parse_network(net, index), record))
    return out


def build_mmdb(
    entries: Iterable[Entry],
    *,
    database_type: str = "ctdetect-Test",
    description: str = "ctdetect test database",
    languages: Iterable[str] = ("en",),
    build_epoch: int = DEFAULT_BUILD_EPOCH,
) -> bytes:
    """The bytes of a MaxMind DB holding ``entries`` (see :func:`write_mmdb`)."""
    networks = _normalise(entries)
    # data section: one encoded blob per distinct record
    data = bytearray()
    offsets: list[int] = []
    seen: dict[bytes, int] = {}
    data_ids = []
    for _net, record in networks:
        blob = encode(record)
        if blob not in seen:
            seen[blob] = len(offsets)
            offsets.append(len(data))
            data += blob
        data_ids.append(seen[blob])

    root = _Node()
    # less specific first, so more specific networks split and override them
    order = sorted(range(len(networks)), key=lambda i: (_as_v6_bits(networks[i][0])[1], i))
    for i in order:
        address, prefix = _as_v6_bits(networks[i][0])
        if prefix == 0:
            _fill(root, data_ids[i])
        else:
            _insert(root, address, prefix, data_ids[i])

    # IPv4-mapped addresses (::ffff:a.b.c.d) alias the IPv4 subtree at ::/96
    ipv4_root = root
    for _ in range(96):
        nxt = ipv4_root.children[0]
        if not isinstance(nxt, _Node):
            ipv4_root = None  # type: ignore[assignment]
            break
        ipv4_root = nxt
    if ipv4_root is not None:
        _insert_node(root, int(ipaddress.IPv6Address("::ffff:0:0")), 96, ipv4_root)

    # number nodes breadth-first (shared alias subtree numbered once)
    numbering: dict[int, int] = {}
    ordered: list[_Node] = []
    queue = [root]
    while queue:
        node = queue.pop(0)
        if id(node) in numbering:
            continue
        numbering[id(node)] = len(ordered)
        ordered.append(node)
        queue.extend(c for c in node.children if isinstance(c, _Node) and id(c) not in numbering)
    node_count = len(ordered)

    def record_value(child: Any) -> int:
        if child is None:
            return node_count
        if isinstance(child, _Node):
            return numbering[id(child)]
        return node_count + 16 + offsets[child]

    max_value = node_count + 16 + len(data)
    record_size = 24 if max_value < 2**24 else 28 if max_value < 2**28 else 32
    tree = bytearray()
    for node in ordered:
        left, right = (record_value(c) for c in node.children)
        if record_size == 24:
            tree += left.to_bytes(3, "big") + right.to_bytes(3, "big")
        elif record_size == 28:
            tree += (left & 0xFFFFFF).to_bytes(3, "big")
            tree.append(((left >> 24) << 4) | (right >> 24))
            tree += (right & 0xFFFFFF).to_bytes(3, "big")
        else:
            tree += left.to_bytes(4, "big") + right.to_bytes(4, "big")

    metadata = {
        "binary_format_major_version": Typed("uint16", 2),
        "binary_format_minor_version": Typed("uint16", 0),
        "build_epoch": Typed("uint64", int(build_epoch) or DEFAULT_BUILD_EPOCH),
        "database_type": database_type,
        "description": {"en": description},
        "ip_version": Typed("uint16", 6),
        "languages": list(languages),
        "node_count": Typed("uint32", node_count),
        "record_size": Typed("uint16", record_size),
    }
    meta_blob = encode(metadata)
    return bytes(tree) + DATA_SEPARATOR + bytes(data) + METADATA_MARKER + meta_blob


def _insert_node(root: _Node, address: int, prefix: int, target: _Node) -> None:
    """Point the branch for ``address/prefix`` at an existing subtree (an alias)."""
    node = root
    for depth in range(prefix - 1):
        bit = (address >> (127 - depth)) & 1
        child = node.children[bit]
        if not isinstance(child, _Node):
            child = _Node([child, child])
            node.children[bit] = child
        node = child
    bit = (address >> (127 - (prefix - 1))) & 1
    if node.children[bit] is None:
        node.children[bit] = target


def write_mmdb(
    path: str | Path,
    entries: Iterable[Entry],
    *,
    database_type: str = "ctdetect-Test",
    description: str = "ctdetect test database",
    languages: Iterable[str] = ("en",),
    build_epoch: int = DEFAULT_BUILD_EPOCH,
) -> Path:
    """Write a MaxMind DB file that maps each network of ``entries`` to its record.

    ``entries``: ``(network, record)`` pairs -- network as ``"192.0.2.0/24"`` (a bare IP
    means a single address) or an ``ipaddress`` network; record a dict in the shape the
    reader expects, e.g. from :func:`ctdetect.geoip.table.city_record` -- or objects with
    ``.network`` and ``.record()`` such as :class:`ctdetect.geoip.table.GeoEntry`.
    ``database_type`` names the schema (readers and ctdetect use it: a type containing
    "ASN" is treated as an ASN database). Returns the path written.
    """
    blob = build_mmdb(
        entries, database_type=database_type, description=description, languages=languages, build_epoch=build_epoch
    )
    out = Path(path)
    out.write_bytes(blob)
    return out

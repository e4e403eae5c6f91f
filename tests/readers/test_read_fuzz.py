"""Whatever the bytes, reading never raises: events come out or skips are reported."""

from __future__ import annotations

import gzip
import io

from hypothesis import given, settings
from hypothesis import strategies as st

from ctdetect.readers import SkippedInput, read_events

GOOD = b'{"eventTime": "2024-05-01T10:00:00Z", "eventName": "ListBuckets", "eventSource": "s3.amazonaws.com"}'
pieces = st.lists(st.one_of(st.binary(max_size=40), st.sampled_from([GOOD, b"\n", b"{", b"}", b"[", b"]", b'"Records":',
                                                                       b",", b"\xff", b"\x1f\x8b", b"null"])), max_size=12)


@settings(max_examples=120, deadline=None)
@given(parts=pieces, compress=st.booleans(), cut=st.integers(0, 64))
def test_reading_never_raises(parts: list[bytes], compress: bool, cut: int) -> None:
    data = b"".join(parts)
    if compress:
        data = gzip.compress(data)
        data = data[: max(0, len(data) - cut)] if cut % 3 == 0 else data
    skips: list[SkippedInput] = []
    items = list(read_events(["-"], stdin=io.BytesIO(data), on_skip=skips.append))
    assert items or skips or not data.strip()
    for item in items:
        assert item.record.get("eventTime") or item.kind == "ecs"
    for skip in skips:
        assert skip.message and skip.file == "-"

"""``readers.order``: files in delivery order, walked lazily, in exactly the order of the one
sort every file of the input used to go through (``one_sort`` below, that sort as it was
written before the walk became lazy), with the same skips, on generated trees: S3-layout
days whose files' delivery times leave their folder's day, folders mixing CloudTrail and
other files, hidden names, symbolic links, several arguments, ``-``, missing paths, S3
prefixes listed once each."""

from __future__ import annotations

import gzip
import os
import random
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ctdetect.readers import order
from ctdetect.readers.model import SkippedInput
from ctdetect.readers.order import ordered_files
from ctdetect.readers.s3 import DayRange
from ctdetect.readers.sources import STDIN, list_inputs

_CT_NAME = re.compile(r"_(\d{8}T\d{4}Z)_")


def one_sort(paths: list[Any], on_skip, days: DayRange | None = None) -> list[str]:
    """The reference: every file listed, then one sort by (argument, delivery time, path)."""
    out = []
    for i, entry in enumerate(paths):
        if str(entry) == STDIN:
            out.append(((i, "", ""), STDIN))
            continue
        for name in list_inputs(entry, on_skip, days):
            match = _CT_NAME.search(Path(name).name)
            out.append(((i, match.group(1) if match else "", name), name))
    out.sort(key=lambda item: item[0])
    return [name for _, name in out]


def _both(paths: list[Any], days: DayRange | None = None) -> tuple[tuple[list[str], list], tuple[list[str], list]]:
    """``(names, skips)`` of the lazy order and of the reference, for the same paths."""
    told: list[SkippedInput] = []
    lazy = list(ordered_files(paths, told.append, days))
    told_ref: list[SkippedInput] = []
    ref = one_sort(paths, told_ref.append, days)
    return (lazy, told), (ref, told_ref)


def _ct_name(region: str, stamp: str, tag: str) -> str:
    return f"111122223333_CloudTrail_{region}_{stamp}_{tag}.json.gz"


def _write(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(b'{"Records": []}'))


def random_tree(root: Path, rng: random.Random) -> None:
    """An S3 layout (regions x days) with the oddities the order must survive."""
    regions = rng.sample(["us-east-1", "eu-west-1", "ap-south-1", "us-west-2"], rng.randint(1, 4))
    for region in regions:
        for day in rng.sample(range(1, 9), rng.randint(1, 4)):
            folder = root / "AWSLogs" / "111122223333" / "CloudTrail" / region / "2026" / "03" / f"{day:02d}"
            for n in range(rng.randint(0, 6)):
                # a delivery time mostly of the folder's day, sometimes another day's (late, early)
                shown = day if rng.random() < 0.7 else rng.randint(1, 9)
                stamp = f"202603{shown:02d}T{rng.randint(0, 23):02d}{rng.choice(['00', '05', '15', '55'])}Z"
                _write(folder / _ct_name(region, stamp, f"{rng.randrange(1000):03d}{n}"))
            if rng.random() < 0.3:  # a folder mixing CloudTrail and other files
                _write(folder / rng.choice(["notes.ndjson", "A.json", "zz.json.gz", "0.json"]))
            if rng.random() < 0.2:
                _write(folder / ".hidden_20260301T0000Z_x.json.gz")
    for rel in rng.sample(["top.ndjson", "a-b/x.json", "a/b.json", "a/b/c.json", "a.b/y.json", ".git/z.json",
                           "x/_20260305T1200Z_odd.json", "x/y/111_CloudTrail_r_20260301T0000Z_e.json.gz"],
                          rng.randint(0, 8)):
        _write(root / rel)
    if rng.random() < 0.5:  # a link to a file is read, a link to a folder is not walked, a broken one is listed
        first = next((p for p in sorted(root.rglob("*.json.gz")) if ".hidden" not in p.name), None)
        if first is not None:
            (root / "AWSLogs" / _ct_name("linked", "20260302T0100Z", "lnk")).symlink_to(first)
        (root / "folder-link").symlink_to(root / "AWSLogs", target_is_directory=True)
        (root / "broken_20260301T0200Z_.json").symlink_to(root / "nowhere")


@pytest.mark.parametrize("seed", range(12))
def test_seeded_trees_come_out_as_the_one_sort_gives(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    trees = []
    for t in range(rng.randint(1, 3)):
        root = tmp_path / f"tree{t}"
        root.mkdir()
        random_tree(root, rng)
        trees.append(root)
    loose = trees[0] / "loose_20260301T0000Z_file.json"
    _write(loose)
    arguments: list[Any] = [*trees, str(loose), STDIN, str(tmp_path / "missing"), trees[0], str(trees[-1]) + "/"]
    rng.shuffle(arguments)
    lazy, ref = _both(arguments)
    assert lazy == ref and lazy[0]


_names = st.sampled_from(["a", "b", "a-b", "a.b", "B", "z"])
_stamps = st.sampled_from(["20260301T0000Z", "20260301T0005Z", "20260302T2355Z", "20260228T1200Z"])
_file = st.one_of(
    st.builds(lambda region, stamp, tag: _ct_name(region, stamp, tag), st.sampled_from(["us-east-1", "eu-west-1"]), _stamps,
              st.sampled_from(["x", "y", "0"])),
    st.sampled_from(["n.ndjson", "a.json", "_", ".hidden.json", "Z.json.gz"]),
)
_tree = st.recursive(st.dictionaries(_file, st.just(None), max_size=4),
                     lambda children: st.dictionaries(_names, children, max_size=3), max_leaves=25)


def _build(root: Path, tree: dict) -> None:
    root.mkdir(parents=True, exist_ok=True)
    for name, sub in tree.items():
        if sub is None:
            _write(root / name)
        else:
            _build(root / name, sub)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(tree=_tree)
def test_any_tree_comes_out_as_the_one_sort_gives(tmp_path_factory: pytest.TempPathFactory, tree: dict) -> None:
    root = tmp_path_factory.mktemp("tree")
    _build(root, tree if isinstance(tree, dict) else {})
    lazy, ref = _both([root, root / "a", STDIN])
    assert lazy == ref


def test_folders_are_listed_only_as_their_files_come_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What makes the order lazy: a folder's names are read (listed a second time) only when
    its least key is the next one; ten days of one region are ten runs, one open at a time."""
    for day in range(1, 11):
        for hour in (0, 12):
            _write(tmp_path / "CloudTrail" / "us-east-1" / "2026" / "03" / f"{day:02d}"
                   / _ct_name("us-east-1", f"202603{day:02d}T{hour:02d}00Z", "f"))
    listed: list[str] = []
    real = order.folder_files
    monkeypatch.setattr(order, "folder_files", lambda folder: listed.append(folder) or real(folder))
    files = iter(ordered_files([tmp_path], lambda _: None))
    assert listed == []  # the first walk keeps least keys, not names
    first = next(files)
    assert "20260301T0000Z" in first and len(listed) == 1
    rest = list(files)
    assert len(rest) == 19 and len(listed) == 10
    assert [Path(name).name for name in [first, *rest]] == sorted(Path(name).name for name in [first, *rest])


def test_an_order_walks_again_each_time_it_is_iterated(tmp_path: Path) -> None:
    _write(tmp_path / "d" / _ct_name("r", "20260301T0000Z", "a"))
    _write(tmp_path / "e" / _ct_name("r", "20260301T0000Z", "b"))
    files = ordered_files([tmp_path], lambda _: None)
    assert list(files) == list(files) == one_sort([tmp_path], lambda _: None)


def test_missing_paths_are_told_when_the_order_is_made_in_argument_order(tmp_path: Path) -> None:
    """Before any file is read, as when every file was listed first."""
    _write(tmp_path / "here.json")
    told: list[SkippedInput] = []
    files = ordered_files([tmp_path / "gone1", tmp_path, STDIN, tmp_path / "gone2"], told.append)
    assert [s.file for s in told] == [str(tmp_path / "gone1"), str(tmp_path / "gone2")]
    assert list(files) == [str(tmp_path / "here.json"), STDIN]
    assert not files.local_only
    assert ordered_files([tmp_path], told.append).local_only


class _FakeS3:
    """Enough of boto3's client for ``readers.s3``'s listings, counting every request."""

    def __init__(self, keys: list[str]) -> None:
        self.keys = sorted(keys)
        self.requests: list[str] = []

    def get_paginator(self, _: str) -> _FakeS3:
        return self

    def paginate(self, Bucket: str, Prefix: str, Delimiter: str | None = None) -> list[dict]:  # noqa: N803 - boto3's names
        self.requests.append(Prefix)
        under = [k for k in self.keys if k.startswith(Prefix)]
        if Delimiter is None:
            return [{"Contents": [{"Key": k} for k in under]}]
        direct = [k for k in under if "/" not in k[len(Prefix):]]
        children = sorted({Prefix + k[len(Prefix):].split("/")[0] + "/" for k in under if "/" in k[len(Prefix):]})
        return [{"Contents": [{"Key": k} for k in direct], "CommonPrefixes": [{"Prefix": p} for p in children]}]


@pytest.mark.parametrize("days", [None, DayRange(date(2026, 3, 1), date(2026, 3, 31)), DayRange(date(2026, 3, 2), date(2026, 3, 3))])
def test_s3_prefixes_are_ordered_as_the_one_sort_and_listed_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                days: DayRange | None) -> None:
    rng = random.Random(5)
    keys = []
    for region in ("us-east-1", "eu-west-1", "ap-south-1"):
        for day in range(1, 5):
            for _ in range(3):
                stamp = f"202603{day + rng.choice((0, 0, 1)):02d}T{rng.randint(0, 23):02d}05Z"
                keys.append(f"AWSLogs/1/CloudTrail/{region}/2026/03/{day:02d}/{_ct_name(region, stamp, str(rng.randrange(99)))}")
    keys.append("AWSLogs/1/CloudTrail/us-east-1/notes.json")
    fake = _FakeS3(keys)
    from ctdetect.readers import s3

    monkeypatch.setattr(s3, "client", lambda: fake)
    _write(tmp_path / "local_20260301T0000Z_.json")
    arguments = ["s3://bucket/AWSLogs/", tmp_path, "s3://bucket/AWSLogs/1/CloudTrail/eu-west-1/"]
    told: list[SkippedInput] = []
    files = ordered_files(arguments, told.append, days)
    requests = list(fake.requests)
    lazy = list(files)
    assert fake.requests == requests  # listed when the order was made, never again
    assert not files.local_only
    fake.requests.clear()
    assert lazy == one_sort(arguments, lambda _: None, days) and any(name.startswith("s3://") for name in lazy)
    assert requests == fake.requests  # the requests the one sort's listing made: one per prefix and argument
    assert all(type(name) is not str for name in lazy if name.startswith("s3://"))  # still S3Object


def test_a_root_written_in_any_form_names_its_files_as_the_walk_does(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for rel in ("top.json", "a/" + _ct_name("r", "20260301T0000Z", "x"), "a/b/" + _ct_name("r", "20260301T0000Z", "a")):
        _write(tmp_path / rel)
    monkeypatch.chdir(tmp_path)
    for root in (".", "./", "a", "a/", "a//b", "./a/../a", str(tmp_path), "//" + str(tmp_path).lstrip("/")):
        lazy, ref = _both([root])
        assert lazy == ref and lazy[0], root


def test_workers_read_a_lazy_order_as_one_process_does(tmp_path: Path) -> None:
    """``ecs.parallel`` takes the order as it comes (chunks), and its one-process fallback
    (fewer than two chunks) reads the files the chunks took, not a second walk."""
    from ctdetect.ecs.stream import iter_events

    record = ('{"eventVersion":"1.08","eventTime":"2026-03-01T00:00:00Z","eventSource":"s3.amazonaws.com",'
              '"eventName":"ListBuckets","awsRegion":"us-east-1","eventID":"%s"}')
    for n in range(3):
        path = tmp_path / "d" / _ct_name("us-east-1", f"2026030{n + 1}T0000Z", str(n))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(gzip.compress(('{"Records":[' + record % f"id-{n}" + "]}").encode()))
    one = [e["event.id"] for e in iter_events([tmp_path], workers=1)]
    two = [e["event.id"] for e in iter_events([tmp_path], workers=2)]
    assert one == two == ["id-0", "id-1", "id-2"]
    assert os.listdir(tmp_path / "d")  # nothing consumed

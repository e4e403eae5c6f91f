"""The generation-time tools of ES|QL: function definitions -> our data file, and the ES|QL rules' scenario events."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

from ctdetect.query.esql.functions import load_functions

ROOT = Path(__file__).resolve().parents[2]


def _tool(name: str):  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location(name, ROOT / "generators" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


def test_definitions_are_compacted_into_our_data_shape(tmp_path: Path) -> None:
    """A definition in Elastic's published shape (here: a made-up function) becomes one entry of ours."""
    signatures = [
        {"params": [{"name": "interval", "type": "date_period", "optional": False}, {"name": "date", "type": "date", "optional": False}], "variadic": False, "returnType": "date"},
        {"params": [{"name": "interval", "type": "time_duration", "optional": False}, {"name": "date", "type": "date_nanos", "optional": False}], "variadic": False, "returnType": "date_nanos"},
    ]
    (tmp_path / "defs").mkdir()
    (tmp_path / "defs" / "trunc_like.json").write_text(json.dumps({"type": "scalar", "name": "trunc_like", "signatures": signatures}))
    (tmp_path / "defs" / "preview_only.json").write_text(json.dumps({"type": "scalar", "name": "preview_only", "snapshot_only": True, "signatures": []}))
    out = tmp_path / "functions.json"
    assert _tool("gen_esql_functions").main([str(tmp_path / "defs"), "-o", str(out)]) == 0
    data = json.loads(out.read_text())["functions"]
    assert data == {"trunc_like": {"kind": "scalar", "params": [["interval", "date_period time_duration"], ["date", "date date_nanos"]], "returns": "=1"}}


def test_a_text_argument_returning_keyword_still_returns_its_argument_type(tmp_path: Path) -> None:
    """MIN/MAX/VALUES return their argument's type, except keyword for text: that is "=0", and
    a return type that follows no argument stays unknown ("any")."""
    same = [{"params": [{"name": "field", "type": t, "optional": False}], "variadic": False, "returnType": "keyword" if t == "text" else t} for t in ("date", "long", "text")]
    mixed = [{"params": [{"name": "number", "type": t, "optional": False}], "variadic": False, "returnType": r} for t, r in (("integer", "long"), ("double", "double"), ("long", "keyword"))]
    (tmp_path / "defs").mkdir()
    (tmp_path / "defs" / "min_like.json").write_text(json.dumps({"type": "agg", "name": "min_like", "signatures": same}))
    (tmp_path / "defs" / "mixed.json").write_text(json.dumps({"type": "agg", "name": "mixed", "signatures": mixed}))
    out = tmp_path / "functions.json"
    assert _tool("gen_esql_functions").main([str(tmp_path / "defs"), "-o", str(out)]) == 0
    data = json.loads(out.read_text())["functions"]
    assert data["min_like"]["returns"] == "=0" and data["mixed"]["returns"] == "any"


def test_merge_keeps_other_functions_and_records_commits(tmp_path: Path) -> None:
    """A directory holding part of Elastic's files adds and replaces, keeps the rest, and says where facts come from."""
    out = tmp_path / "functions.json"
    out.write_text(json.dumps({"format": 1, "source": "s", "functions": {"kept": {"kind": "scalar", "params": [], "returns": "keyword"}, "gone": {"kind": "scalar", "params": [], "returns": "keyword"}}}))
    (tmp_path / "defs").mkdir()
    options = {"name": "options", "type": "function_named_parameters", "optional": True}
    (tmp_path / "defs" / "fancy.json").write_text(json.dumps({"type": "scalar", "name": "fancy", "signatures": [{"params": [{"name": "field", "type": "keyword"}, options], "returnType": "boolean"}]}))
    (tmp_path / "defs" / "untyped.json").write_text(json.dumps({"type": "scalar", "name": "untyped", "signatures": []}))
    (tmp_path / "defs" / "gone.json").write_text(json.dumps({"type": "scalar", "name": "gone", "snapshot_only": True, "signatures": []}))
    (tmp_path / "defs" / "broken.json").write_text("[1, 2]")
    (tmp_path / "commits.json").write_text(json.dumps({"fancy": "abc123"}))
    tool = _tool("gen_esql_functions")
    assert tool.main([str(tmp_path / "defs"), "-o", str(out), "--merge", "--commits", str(tmp_path / "commits.json")]) == 0
    data = json.loads(out.read_text())
    assert data["functions"] == {
        "fancy": {"kind": "scalar", "params": [["field", "keyword"], ["options", "map", True]], "returns": "boolean"},
        "kept": {"kind": "scalar", "params": [], "returns": "keyword"},
        "untyped": {"kind": "scalar", "params": [], "variadic": True, "returns": "any"},
    }
    assert data["commits"] == {"fancy": "abc123"} and data["source"] == "s"


def test_released_keeps_a_function_snapshot_only_at_the_commit_read(tmp_path: Path) -> None:
    """A definition read before its function went GA still gives its facts when named as released."""
    (tmp_path / "defs").mkdir()
    signature = {"params": [{"name": "string", "type": "keyword", "optional": False}], "variadic": False, "returnType": "keyword"}
    for name in ("decode_like", "still_preview"):
        (tmp_path / "defs" / f"{name}.json").write_text(json.dumps({"type": "scalar", "name": name, "snapshot_only": True, "signatures": [signature]}))
    out = tmp_path / "functions.json"
    assert _tool("gen_esql_functions").main([str(tmp_path / "defs"), "-o", str(out), "--released", "decode_like"]) == 0
    assert json.loads(out.read_text())["functions"] == {"decode_like": {"kind": "scalar", "params": [["string", "keyword"]], "returns": "keyword"}}


def test_shipped_function_data_loads() -> None:
    functions = load_functions()
    assert len(functions) >= 190
    assert functions["in_range"].max_args is None and functions["in_range"].return_type(["date"]) is None  # published without signatures
    assert functions["clamp"].return_type(["long", "long", "long"]) is None  # no single return type: unknown, not "any"
    assert functions["count_distinct"].kind == "agg" and functions["count_distinct"].min_args == 1 and functions["count_distinct"].max_args == 2
    assert functions["case"].max_args is None and functions["date_trunc"].return_type(["time_duration", "date"]) == "date"


def test_esql_scenarios_are_in_sync_with_their_generator() -> None:
    assert _tool("gen_esql_scenarios").main(["--check"]) == 0, "run python generators/gen_esql_scenarios.py"

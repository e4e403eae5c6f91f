"""ctdetect as a user meets it from a wheel: installed into a fresh venv, run in an empty folder.

Why: a checkout hides what a wheel lacks (the content folders sit next to the code). Here
the wheel is built from this checkout (``pip wheel``, which needs PyPI for the build
backend), installed into a new venv, and run from an empty folder, where there is no
package but the bundled one:

- ``ctdetect hunt`` over the Stratus Red Team detonations finds exactly what the clone
  finds, and its summary says the content is the bundled one;
- ``ctdetect init`` + ``ctdetect new rule`` + ``validate`` + ``fmt --check`` + ``replay``
  pass in the new repository.

The new venv gets ctdetect from the wheel only (``--no-deps``); its third-party
dependencies are those of this test's interpreter, made visible by a ``.pth`` line (the
editable install of this checkout is not: its finder is activated by a ``.pth`` file that a
``.pth`` path line does not process). So the test needs no download but the build backend,
and the test checks that ``ctdetect`` really is imported from the new venv.

About 90 s (the build compiles the anomaly modules, setup.py): marked ``wheel`` (``pytest -m 'not wheel'`` leaves it out while developing;
CI runs it).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import zipfile
import sys
import sysconfig
import venv
from pathlib import Path

import pytest
from conftest import PROJECT_ROOT, shared_path

pytestmark = pytest.mark.wheel

STRATUS = ("datasets", "stratus-red-team-detonation-logs", "all_detonations.ndjson")


def _run(args: list[str], cwd: Path, env: dict[str, str] | None = None, ok: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)  # the build compiles: slow on a loaded machine
    if ok:
        assert done.returncode == 0, f"{' '.join(args)} exited {done.returncode}\nstdout:\n{done.stdout[-3000:]}\nstderr:\n{done.stderr[-3000:]}"
    return done


@pytest.fixture(scope="module")
def wheel_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv holding ctdetect from a wheel of this checkout; its ``bin`` folder."""
    work = tmp_path_factory.mktemp("wheel")
    built = _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(work / "dist"), str(PROJECT_ROOT)], work, ok=False)
    if built.returncode != 0:
        pytest.fail(f"pip wheel failed (it needs PyPI for setuptools):\n{built.stderr[-3000:]}")
    wheels = list((work / "dist").glob("ctdetect-*.whl"))
    assert len(wheels) == 1, wheels
    env_dir = work / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    bin_dir = env_dir / ("Scripts" if os.name == "nt" else "bin")
    python = bin_dir / "python"
    site = Path(_run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], work).stdout.strip())
    (site / "test-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n" + sysconfig.get_paths()["platlib"] + "\n", encoding="utf-8")
    _run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "-q", str(wheels[0])], work)
    where = _run([str(python), "-c", "import ctdetect; print(ctdetect.__file__)"], work).stdout.strip()
    assert Path(where).is_relative_to(env_dir), f"ctdetect imported from {where}, not from the wheel"
    return bin_dir


def test_the_wheel_ships_and_uses_the_compiled_anomaly_modules(wheel_venv: Path) -> None:
    """Where a C compiler is at hand (CI), the wheel holds an extension for every module of
    ``ACCELERATED`` and for ``_cspecial``, and the installed package imports them: a build that
    fell back to pure Python (one warning line, setup.py) would still install and pass every
    other test, only slower."""
    from ctdetect.engine.anomaly.accelerated import ACCELERATED, PURE_PYTHON_ENV, SPECIAL

    if shutil.which(os.environ.get("CC", "cc")) is None:
        pytest.skip("no C compiler on this machine: the wheel is pure Python by design (setup.py)")
    if os.environ.get(PURE_PYTHON_ENV) == "1":
        pytest.skip(f"{PURE_PYTHON_ENV}=1: the sources run by request")
    wheel = next((wheel_venv.parent.parent / "dist").glob("ctdetect-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    folder = "ctdetect/engine/anomaly/"
    # dotted below the package, as ACCELERATED names them ("detectors/rare.….so": "detectors.rare")
    shipped = {n[len(folder) :].split(".")[0].replace("/", ".") for n in names if n.startswith(folder) and n.endswith(".so")}
    assert shipped == {*ACCELERATED, SPECIAL}, f"compiled modules in {wheel.name}: {sorted(shipped)}"
    probe = "from ctdetect.engine.anomaly.accelerated import compiled_modules; print(','.join(compiled_modules()))"
    used = _run([str(wheel_venv / "python"), "-c", probe], wheel_venv).stdout.strip().split(",")
    assert used == [*ACCELERATED, SPECIAL], f"the installed wheel imports compiled: {used}"


def test_hunt_from_the_wheel_finds_what_the_clone_finds(wheel_venv: Path, tmp_path: Path) -> None:
    stratus = shared_path(*STRATUS)
    empty = tmp_path / "empty"
    empty.mkdir()
    from_wheel = _run([str(wheel_venv / "ctdetect"), "hunt", str(stratus), "--format", "ndjson"], empty)
    from_clone = _run([sys.executable, "-m", "ctdetect", "hunt", str(stratus), "--format", "ndjson", "--package", str(PROJECT_ROOT)], PROJECT_ROOT)
    assert "content: " in from_wheel.stderr and "(bundled with ctdetect " in from_wheel.stderr, from_wheel.stderr
    assert from_wheel.stdout.count("\n") >= 30, "the bundled rules fire on the Stratus detonations"
    assert from_wheel.stdout == from_clone.stdout


def test_init_new_rule_validate_replay_from_the_wheel(wheel_venv: Path, tmp_path: Path) -> None:
    ctdetect = str(wheel_venv / "ctdetect")
    _run([ctdetect, "init", "detections"], tmp_path)
    repo = tmp_path / "detections"
    assert (repo / ".github" / "workflows" / "ctdetect.yml").is_file()
    assert (repo / ".pre-commit-config.yaml").is_file()
    _run([ctdetect, "new", "rule", "Trail deleted", "--provider", "cloudtrail.amazonaws.com", "--action", "DeleteTrail"], repo)
    checked = _run([ctdetect, "validate"], repo)
    assert "0 error(s), 0 warning(s)" in checked.stdout, checked.stdout
    _run([ctdetect, "fmt", "--check"], repo)
    replayed = _run([ctdetect, "replay"], repo)
    assert "4 scenarios (0 failed); 4 expectations: 4 met, 0 unmet" in replayed.stdout, replayed.stdout
    assert "content: package ." in replayed.stdout

"""A wheel of the repository, installed in a fresh virtualenv, builds a grid and serves.

The wheel is built from a copy of the source tree (the repository itself is left
untouched) with the test interpreter's pip: without build isolation when that
interpreter has ``setuptools>=77`` (the ``test`` extra installs it, so CI builds
offline), else in pip's usual isolated build environment, which fetches setuptools.

The fresh virtualenv (``python -m venv``, no system site packages) gets airgrid from
that wheel only (``pip install --no-deps --no-index``). Its third-party dependencies
cannot be installed offline, so a ``.pth`` file puts the test interpreter's
site-packages folders *after* the venv's own: the dependencies come from there, while airgrid
comes from the venv, which is first on the path. An editable airgrid in the test
interpreter's site-packages stays inactive, because ``.pth`` files inside a directory
added by a ``.pth`` line are not processed. The test asserts where airgrid is imported
from, and runs every command from a temporary directory outside the repository with no
``PYTHONPATH`` and no ``AIRGRID_*`` variable, so the shipped inputs must come from the
installed package data and the outputs go to ``./var``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
from importlib import metadata
from pathlib import Path

import httpx
import pytest

from tests.servers import free_port, wait_ready

ROOT = Path(__file__).resolve().parents[1]
#: A small box in central Changsha (lon/lat), tier T2 only: a build of a few seconds.
BBOX = "112.95,28.15,113.0,28.2"
#: What the source copy leaves out: environments, outputs, caches and VCS data.
IGNORE = shutil.ignore_patterns(
    ".venv", "var", ".git", "build", "dist", "*.egg-info", "__pycache__", ".*_cache", ".hypothesis"
)


def _setuptools_is_recent() -> bool:
    try:
        major = int(metadata.version("setuptools").split(".")[0])
    except (metadata.PackageNotFoundError, ValueError):
        return False
    return major >= 77


def _run(cmd: list[str | Path], cwd: Path, env: dict[str, str], timeout: float) -> str:
    proc = subprocess.run(
        [str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )
    assert proc.returncode == 0, f"{cmd} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout + proc.stderr


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A fresh venv with airgrid installed from a wheel; yields (bin folder, environment)."""
    tmp = tmp_path_factory.mktemp("wheel")
    env = {
        k: v for k, v in os.environ.items() if k != "PYTHONPATH" and not k.startswith("AIRGRID_")
    }
    src = tmp / "src"
    shutil.copytree(ROOT, src, ignore=IGNORE)
    build = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", tmp / "dist", src]
    if _setuptools_is_recent():
        build.insert(5, "--no-build-isolation")
    _run(build, tmp, env, 300)
    (wheel,) = (tmp / "dist").glob("airgrid-*.whl")
    target = tmp / "venv"
    _run([sys.executable, "-m", "venv", target], tmp, env, 120)
    py = target / "bin" / "python"
    _run([py, "-m", "pip", "install", "-q", "--no-deps", "--no-index", wheel], tmp, env, 120)
    site = Path(
        _run([py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], tmp, env, 60)
        .strip()
        .splitlines()[-1]
    )
    paths = sysconfig.get_paths()
    deps = [paths["purelib"], paths["platlib"]]
    deps += [p for p in sys.path if p.endswith(("site-packages", "dist-packages"))]
    (site / "zz_test_dependencies.pth").write_text("\n".join(dict.fromkeys(deps)) + "\n")
    return target / "bin", env


@pytest.mark.slow
def test_wheel_ships_the_data_and_the_installed_cli_builds_and_serves(venv, tmp_path):
    bindir, env = venv
    work = tmp_path / "elsewhere"
    work.mkdir()
    where = _run(
        [
            bindir / "python",
            "-c",
            "import airgrid, airgrid.data as d, airgrid.settings as s; "
            "print(airgrid.__file__); print(d.DEFAULT_DEM); print(s.Settings().var_dir)",
        ],
        work,
        env,
        120,
    ).splitlines()
    venv_dir = bindir.parent.resolve()
    assert Path(where[0]).resolve().is_relative_to(venv_dir), where
    assert Path(where[1]).resolve().is_relative_to(venv_dir) and Path(where[1]).is_file(), where
    assert not Path(where[0]).resolve().is_relative_to(ROOT)
    assert Path(where[2]) == work.resolve() / "var"

    out = _run(
        [bindir / "airgrid", "build", "--bbox", BBOX, "--tiers", "T2", "--no-progress"],
        work,
        env,
        300,
    )
    assert (work / "var" / "grid-default" / "meta.json").is_file(), out

    port = free_port()
    log_path = tmp_path / "serve.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [str(bindir / "airgrid"), "serve", "--port", str(port), "--log-level", "warning"],
            cwd=work,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            wait_ready(base, proc, log_path, 120)
            assert httpx.get(f"{base}/v1/health", timeout=5).status_code == 200
            # the map page and its vendored renderer are package data too
            assert "maplibre-gl.js" in httpx.get(f"{base}/map", timeout=5).text
            for asset in ("js/main.js", "vendor/maplibre-gl/maplibre-gl.js"):
                got = httpx.get(f"{base}/map/static/{asset}", timeout=5)
                assert got.status_code == 200 and len(got.content) > 1_000, asset
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    served = log_path.read_text()
    assert "building the default grid" not in served, served  # it serves the grid just built
    assert re.search(r"added \d+ airport protection geofences", served), served
    assert (work / "var" / "airgrid.sqlite").is_file()

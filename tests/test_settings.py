"""One configuration: :class:`airgrid.settings.Settings`, read at start, never at import."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from airgrid.api.cli.main import main
from airgrid.data import DATA_DIR, DEFAULT_DEM, DEFAULT_GEOID_GRID, DEFAULT_TIER_FILE
from airgrid.settings import Settings

ROOT = Path(__file__).resolve().parents[1]

#: Imports every module of airgrid with ``os.environ`` replaced by a mapping that records
#: the keys looked up one by one (libraries that copy the whole environment, as numba and
#: networkx do when imported, are not lookups) and with every pydantic-settings object
#: construction recorded, and prints the ``AIRGRID_*`` keys and constructions as JSON.
SPY = r"""
import collections.abc, importlib, json, os, pkgutil
import pydantic_settings

real, seen, made = os.environ, set(), []

class Spy(collections.abc.MutableMapping):
    def __getitem__(self, key):
        seen.add(key)
        return real[key]
    def __contains__(self, key):
        seen.add(key)
        return key in real
    def get(self, key, default=None):
        seen.add(key)
        return real.get(key, default)
    def __setitem__(self, key, value):
        real[key] = value
    def __delitem__(self, key):
        del real[key]
    def __iter__(self):
        return iter(real)
    def __len__(self):
        return len(real)
    def items(self):
        return real.items()
    def copy(self):
        return dict(real)

os.environ = Spy()
init = pydantic_settings.BaseSettings.__init__
def recording_init(self, *args, **kwargs):
    made.append(type(self).__name__)
    init(self, *args, **kwargs)
pydantic_settings.BaseSettings.__init__ = recording_init

import airgrid
names = [m.name for m in pkgutil.walk_packages(airgrid.__path__, "airgrid.")]
for name in names:
    importlib.import_module(name)
read = sorted(k for k in seen if k.upper().startswith("AIRGRID"))
print(json.dumps({"modules": len(names), "read": read, "settings_made": made}))
"""


def test_importing_every_module_reads_no_airgrid_variable(monkeypatch):
    for name in ("AIRGRID_DATA", "AIRGRID_DATA_DIR", "AIRGRID_VAR_DIR", "AIRGRID_GRID_PATH"):
        monkeypatch.setenv(name, "/nonexistent")
    out = subprocess.run(
        [sys.executable, "-c", SPY], capture_output=True, text=True, check=True, timeout=300
    )
    found = json.loads(out.stdout.strip().splitlines()[-1])
    assert found["modules"] > 50
    assert found["read"] == [] and found["settings_made"] == []


def test_defaults_are_the_shipped_files_and_var_under_the_working_directory(tmp_path, monkeypatch):
    for name in list(Settings.model_fields):
        monkeypatch.delenv(f"AIRGRID_{name.upper()}", raising=False)
    monkeypatch.chdir(tmp_path)
    s = Settings()
    assert s.data_dir == DATA_DIR
    assert s.dem_paths == [DEFAULT_DEM] and s.geoid_path == DEFAULT_GEOID_GRID
    assert s.tiers_path == DEFAULT_TIER_FILE
    assert s.var_dir == tmp_path.resolve() / "var"
    assert s.grid_path == s.default_grid_path == s.var_dir / "grid-default"
    assert s.db_url == f"sqlite:///{s.var_dir / 'airgrid.sqlite'}"
    assert all(p.is_file() for p in (*s.dem_paths, s.geoid_path, s.tiers_path))


def test_each_folder_moves_its_own_paths_and_explicit_values_win(tmp_path, monkeypatch):
    monkeypatch.setenv("AIRGRID_DATA_DIR", str(tmp_path / "inputs"))
    monkeypatch.setenv("AIRGRID_VAR_DIR", str(tmp_path / "out"))
    monkeypatch.delenv("AIRGRID_GRID_PATH", raising=False)
    monkeypatch.delenv("AIRGRID_DEM_PATHS", raising=False)
    s = Settings()
    assert s.dem_paths == [tmp_path / "inputs" / DEFAULT_DEM.name]
    assert s.geoid_path == tmp_path / "inputs" / DEFAULT_GEOID_GRID.name
    assert s.tiers_path == tmp_path / "inputs" / "tiers.toml"
    assert s.grid_path == tmp_path / "out" / "grid-default"
    assert s.db_url == f"sqlite:///{tmp_path / 'out' / 'airgrid.sqlite'}"
    monkeypatch.setenv("AIRGRID_DEM_PATHS", json.dumps([str(tmp_path / "a.tif")]))
    s = Settings(grid_path=tmp_path / "g")
    assert s.dem_paths == [tmp_path / "a.tif"] and s.grid_path == tmp_path / "g"
    assert s.default_grid_path == tmp_path / "out" / "grid-default"


def test_the_cli_reads_its_inputs_from_airgrid_data_dir(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("AIRGRID_DATA_DIR", str(tmp_path))
    assert main(["areas"]) == 2
    err = capsys.readouterr().err
    assert "No such file" in err and str(tmp_path / "hunan_") in err
    monkeypatch.delenv("AIRGRID_DATA_DIR")
    assert main(["areas"]) == 0
    assert "430104" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("name", "value"), [("AIRGRID_MAX_BODY_BYTES", "-5"), ("AIRGRID_DEM_PATHS", "not json")]
)
def test_an_invalid_airgrid_variable_is_bad_input_exit_2(name, value, monkeypatch, capsys):
    monkeypatch.setenv(name, value)
    assert main(["areas"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("airgrid: error: invalid setting") and err.count("\n") == 1
    assert name.removeprefix("AIRGRID_").lower() in err.lower()


def test_readme_lists_every_setting_once():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    listed = re.findall(r"^\| `AIRGRID_([A-Z0-9_]+)` \|", readme, flags=re.M)
    assert sorted(listed) == sorted(name.upper() for name in Settings.model_fields)


def test_key_cache_s_defaults_to_one_second_and_takes_0_to_60(monkeypatch):
    monkeypatch.delenv("AIRGRID_KEY_CACHE_S", raising=False)
    assert Settings().key_cache_s == 1.0
    for value in ("0", "0.5", "60"):
        monkeypatch.setenv("AIRGRID_KEY_CACHE_S", value)
        assert Settings().key_cache_s == float(value)
    for value in ("-0.1", "60.5", "nan"):
        monkeypatch.setenv("AIRGRID_KEY_CACHE_S", value)
        with pytest.raises(ValidationError, match="key_cache_s"):
            Settings()

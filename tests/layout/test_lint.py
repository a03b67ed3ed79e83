"""The source passes ruff's checks (``[tool.ruff]`` in pyproject.toml).

The oracle is ruff itself, run on the package, the tests and the
benchmarks as CI would: syntax errors, undefined and unused names,
redefinitions.
"""

import importlib.util
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_ruff_finds_nothing():
  if importlib.util.find_spec('ruff') is None:
    pytest.fail('ruff is not installed: pip install ".[test]" installs it.')
  checked = subprocess.run(
      [sys.executable, '-m', 'ruff', 'check', '--no-cache', 'resnet_v2',
       'tests', 'benchmarks'],
      cwd=ROOT, capture_output=True, text=True, timeout=120)
  assert checked.returncode == 0, checked.stdout + checked.stderr

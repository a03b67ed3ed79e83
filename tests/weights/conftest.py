"""The tiny release, registered for each test module of this folder."""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))

import tiny_release  # noqa: E402


@pytest.fixture(scope='module', autouse=True)
def tiny_model():
  """``resnet_v2_tiny`` and its release, for the module's tests only."""
  with tiny_release.registered():
    yield tiny_release.MODEL


@pytest.fixture
def weights_home(tmp_path, monkeypatch):
  """An empty cache folder as ``$RESNET_V2_HOME``."""
  home = tmp_path / 'cache'
  monkeypatch.setenv('RESNET_V2_HOME', str(home))
  return home

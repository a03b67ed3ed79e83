"""The Keras 3 nets on the tensorflow backend: the shared tests of keras3_cases.

The oracle is TF-Slim's reference nets (and this package's graph builder
for the basic net), built in a TensorFlow graph; see keras3_oracle.
"""

from keras3_cases import *  # noqa: F401,F403  (the tests and fixtures)

BACKEND = 'tensorflow'

import os  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402

import pytest  # noqa: E402


@pytest.mark.parametrize('name', ['resnet_v2_34', 'resnet_v2_50_w2',
                                  'resnet_v1_50'])
def test_each_unit_kind_has_the_parameters_describe_counts(results, name):
  params, described, _ = results['registered_models'][name]
  assert params == described


def test_the_saved_model_export_serves_the_same_logits(results):
  assert results['export']['difference'] < 1e-5


def test_an_unknown_backend_is_one_line_naming_those_that_work():
  process = subprocess.run(
      [sys.executable, '-c', 'import resnet_v2.keras'],
      env=dict(os.environ, KERAS_BACKEND='mxnet'), capture_output=True,
      text=True, timeout=120, check=False)
  assert process.returncode == 1
  assert process.stderr.strip().splitlines()[-1] == (
      'ValueError: KERAS_BACKEND=mxnet: resnet_v2.keras runs on tensorflow, '
      'jax, torch; set KERAS_BACKEND to one of them before Keras is first '
      'imported.')

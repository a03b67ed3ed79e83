"""The tests every Keras 3 backend passes, and the fixtures they read.

Each backend's test module sets ``BACKEND`` and imports these tests; its
``results`` fixture runs ``keras3_checks.py`` once in a process with
``KERAS_BACKEND`` set (Keras picks its backend at import), and each test
asserts on one thing that process measured. The oracle (``keras3_oracle``)
is built once per test session, shared by the xdist workers.
"""

import fcntl
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import keras3_oracle
from keras3_nets import DENSE_STRIDES
from keras3_nets import NETS
from keras3_nets import TOLERANCE
from keras3_nets import outputs_key

HERE = os.path.dirname(os.path.abspath(__file__))
CHECKS_TIMEOUT = 600


@pytest.fixture(scope='session')
def oracle(tmp_path_factory, worker_id):
  """``{'checkpoints': ..., 'outputs': ..., 'scratch': ...}``, built once.

  Under xdist every worker shares the session's temporary root, so the
  first worker to get here builds the oracle and the others wait for it.
  """
  root = tmp_path_factory.getbasetemp()
  if worker_id != 'master':
    root = root.parent
  config_path = root / 'keras3_oracle.json'
  with open(root / 'keras3_oracle.lock', 'w') as lock:
    fcntl.flock(lock, fcntl.LOCK_EX)
    if not config_path.exists():
      checkpoints, outputs = keras3_oracle.write_oracle(
          str(root / 'keras3_oracle'))
      config_path.write_text(json.dumps({
          'checkpoints': checkpoints, 'outputs': outputs,
          'scratch': str(root / 'keras3_scratch')}))
  return json.loads(config_path.read_text())


@pytest.fixture(scope='module')
def results(request, oracle, tmp_path_factory):
  """What ``keras3_checks.py`` measured on the module's ``BACKEND``."""
  backend = request.module.BACKEND
  folder = tmp_path_factory.mktemp('keras3_' + backend)
  oracle_path = folder / 'oracle.json'
  oracle_path.write_text(json.dumps(oracle))
  result_path = folder / 'results.json'
  environment = dict(os.environ, KERAS_BACKEND=backend,
                     PYTHONPATH=os.pathsep.join(
                         [HERE] + [p for p in sys.path if p]))
  process = subprocess.run(
      [sys.executable, os.path.join(HERE, 'keras3_checks.py'),
       str(oracle_path), str(result_path)],
      env=environment, capture_output=True, text=True,
      timeout=CHECKS_TIMEOUT, check=False)
  assert process.returncode == 0, process.stderr[-3000:]
  measured = json.loads(result_path.read_text())
  assert measured['backend'] == backend
  return measured


def _dense_keys():
  """``'<net>/os<stride>'`` of every net and dense stride compared."""
  return [outputs_key(kind, stride) for kind in NETS
          for stride in DENSE_STRIDES]


@pytest.mark.parametrize('key', _dense_keys())
def test_logits_equal_the_graph_build(results, key):
  assert results['outputs'][key]['logits'] < TOLERANCE


@pytest.mark.parametrize('key', _dense_keys())
def test_every_end_point_of_the_graph_build_is_there_and_equal(results, key):
  measured = results['outputs'][key]
  assert measured['missing'] == []
  assert measured['compared'] > 20
  assert measured['end_points'] < TOLERANCE, measured['worst_end_point']


@pytest.mark.parametrize('key', _dense_keys())
def test_end_points_beyond_tf_slims_are_only_the_newer_head_names(
    results, key):
  kind = key.split('/')[0]
  scope = NETS[kind].name
  # TF-Slim 1.1's nets lack the newer 'global_pool' and squeeze entries,
  # which this package's graph builder (the basic net's oracle) has.
  newer = [] if kind == 'basic' else ['global_pool',
                                       scope + '/spatial_squeeze']
  assert results['outputs'][key]['extra'] == newer


@pytest.mark.parametrize('key', _dense_keys())
def test_the_weights_are_the_graph_variables(results, key):
  measured = results['outputs'][key]
  assert measured['weights'] == measured['graph_variables']


def test_weights_from_a_checkpoint_give_the_graph_builds_logits(results):
  measured = results['round_trip']
  assert measured['start_shape'] == [2, 5]
  assert measured['start'] < TOLERANCE


def test_features_are_the_c2_to_c5_levels_capped_at_stride_16(results):
  measured = results['features']
  assert measured['shapes'] == {'C2': [2, 10, 10, 64], 'C3': [2, 5, 5, 128],
                                'C4': [2, 3, 3, 256], 'C5': [2, 3, 3, 512]}
  assert set(measured['differences']) == {'C2', 'C3', 'C4'}
  assert max(measured['differences'].values()) < TOLERANCE


def test_training_updates_the_moving_averages_with_tf_slims_decay(results):
  measured = results['moving_averages']
  # Two statistics per batch norm: the preact, conv1 and conv2 of each of
  # the 8 units, and the postnorm.
  assert measured['compared'] == 2 * (8 * 3 + 1)
  assert measured['changed'] == measured['compared']
  assert measured['difference'] < TOLERANCE


def test_inference_leaves_every_weight_alone(results):
  assert results['moving_averages']['changed_by_inference'] == 0


def test_every_trainable_weight_gets_a_gradient(results):
  measured = results['gradients']
  assert measured['trainable'] > 40
  assert measured['nonzero'] == measured['trainable']


def test_fit_lowers_the_loss(results):
  losses = results['fit']['losses']
  assert len(losses) == 4
  assert losses[-1] < 0.8 * losses[0]


def test_the_l2_penalty_is_tf_slims_one_loss_per_conv(results):
  count, convs = results['fit']['penalties']
  assert count == convs > 10
  keras_penalty, slim_penalty = results['fit']['penalty']
  assert keras_penalty == pytest.approx(slim_penalty, rel=1e-5)


def test_a_keras_file_reloads_the_same_model(results):
  measured = results['fit']
  assert measured['keras_file_class'] == 'ResNetV2'
  assert measured['keras_file_weights']


def test_a_weights_file_reloads_every_weight(results):
  assert results['fit']['weights_file_weights']


@pytest.mark.parametrize('package', [False, True],
                         ids=['tf_slim', 'graph_builder'])
def test_a_fine_tuned_checkpoint_restores_into_the_graph_nets(results,
                                                              package):
  measured = results['round_trip']
  assert measured['changed'] > measured['weights'] // 2
  logits = np.load(measured['logits'])
  restored = keras3_oracle.logits_after_restore(
      'bottleneck', measured['checkpoint'], keras3_oracle.images(), package)
  assert np.max(np.abs(restored.reshape(logits.shape) - logits)) < (
      TOLERANCE * np.max(np.abs(logits)))


BAD_INPUT_ADVICE = {
    'rank': ('rank-4 [batch, height, width, 3]', 'keras.ops.expand_dims'),
    'channels': ('takes images with 3 channels (RGB); got 4',
                 'keras.ops.repeat'),
    'integers': ('got dtype uint8', '/ 127.5 - 1.0'),
    'integers_predict': ('got dtype int32', '/ 127.5 - 1.0'),
    'too_small': ('images are 16x16 pixels', 'use at least 32x32'),
    'model_name': ("Unknown model name 'resnet_v2_51'", 'resnet_v2_50'),
    'output_stride': ('output_stride=12', 'choose one of 4, 8, 16, 32'),
    'input_shape': ('images are 8x8 pixels', 'use at least 32x32'),
}


@pytest.mark.parametrize('case', sorted(BAD_INPUT_ADVICE))
def test_bad_input_is_one_value_error_saying_what_works(results, case):
  message = results['bad_input'][case]
  assert message.startswith('ValueError: ')
  assert '\n' not in message
  for advice in BAD_INPUT_ADVICE[case]:
    assert advice in message

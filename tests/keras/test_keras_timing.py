"""``--api``: the Keras layer timed next to the graph build, on a tiny net.

Oracles: the graph build's own step (its logits shape and trainable
variables), the flags given, and the one-line error protocol.
"""

import importlib.util
import json
import pathlib

import pytest
import tensorflow as tf

from resnet_v2.benchmark import keras3_timing
from resnet_v2.benchmark import keras_timing
from resnet_v2.benchmark import matmul_peak
from resnet_v2.benchmark import peers
from resnet_v2.benchmark import spec as spec_lib

SCRIPT = pathlib.Path(__file__).resolve().parents[2] / 'benchmarks' / (
    'time_resnet_v2.py')
TINY = dict(model='resnet_v2_18', batch_size=2, image_size=32,
            num_batches=2, num_burn_in=0)
NAMES = [keras_timing.API_NAMES['slim'], keras_timing.API_NAMES['keras']]


@pytest.fixture(scope='module')
def cli():
  """The command-line module with a small matmul peak, imported once."""
  spec = importlib.util.spec_from_file_location('time_resnet_v2_api', SCRIPT)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  patch = pytest.MonkeyPatch()
  patch.setattr(matmul_peak, 'DEFAULT_SIZE', 128)
  yield module
  patch.undo()


def run(cli, arguments):
  """Run the command's ``main`` on ``arguments``; return its results."""
  cli.FLAGS.unparse_flags()
  return cli.main(cli.parse_flags(['time_resnet_v2'] + arguments))


def _graph_trainable_count(model):
  """How many trainable variables the graph build of ``model`` has."""
  with tf.Graph().as_default():
    images = tf.zeros([1, 32, 32, 3])
    return len(peers.build_project_net(model, images, True)
               .trainable_variables)


def test_the_keras_forward_step_returns_the_logits():
  step = keras_timing.keras_step(spec_lib.BenchmarkSpec(**TINY))
  assert step().shape.as_list() == [2, peers.NUM_CLASSES]


def test_the_keras_backward_step_differentiates_every_trainable_variable():
  step = keras_timing.keras_step(
      spec_lib.BenchmarkSpec(mode='forward_backward', **TINY))
  gradients = step()
  assert len(gradients) == _graph_trainable_count('resnet_v2_18')
  assert all(gradient is not None for gradient in gradients)


def test_the_keras_step_refuses_graph_mode_where_it_would_time_nothing():
  with tf.Graph().as_default():
    with pytest.raises(RuntimeError, match='keras_step times eager'):
      keras_timing.keras_step(spec_lib.BenchmarkSpec(**TINY))


def test_both_apis_are_timed_side_by_side_with_the_ratio(cli, tmp_path):
  path = tmp_path / 'speed.json'
  results = run(cli, ['--api=slim,keras', '--mode=both', '--json_out=%s'
                      % path] + ['--%s=%s' % item for item in TINY.items()])
  assert [result.mode for result in results] == list(spec_lib.MODES)
  for result in results:
    assert [peer.name for peer in result.peers] == NAMES
    assert result.peers[0].ratio_to_project == 1.0
    assert result.peers[1].ratio_to_project > 0
    assert result.median_sec_per_batch == result.peers[0].median_sec_per_batch
  runs = json.loads(path.read_text())['runs']
  assert [[peer['name'] for peer in record['peers']] for record in runs] == \
      [NAMES, NAMES]


def test_the_keras_api_alone_describes_the_keras_step(cli):
  results = run(cli, ['--api=keras'] +
                ['--%s=%s' % item for item in TINY.items()])
  assert len(results) == 1 and results[0].peers is None
  assert results[0].num_batches == TINY['num_batches']


@pytest.mark.parametrize('apis', [['tf'], [], ['slim', 'slim']])
def test_check_apis_refuses_what_it_cannot_time(apis):
  with pytest.raises(ValueError, match='--api must be slim, keras, keras3 or '
                     'a comma list of them'):
    keras_timing.check_apis(apis)


def test_keras3_is_timed_after_the_graph_build_it_is_compared_with():
  with pytest.raises(ValueError, match='list slim first, e.g. '
                     '--api=slim,keras3'):
    keras_timing.check_apis(['keras3', 'slim'])


@pytest.mark.parametrize('backends', [['numpy'], [], ['jax', 'jax']])
def test_check_backends_names_the_three_that_work(backends):
  with pytest.raises(ValueError, match='--backend must be tensorflow, jax, '
                     'torch or a comma list of them'):
    keras_timing.check_backends(backends)


def test_the_keras_3_backward_step_differentiates_every_trainable_weight():
  step = keras3_timing.keras3_step(
      spec_lib.BenchmarkSpec(mode='forward_backward', **TINY))
  gradients = step()
  assert len(gradients) == _graph_trainable_count('resnet_v2_18')
  assert all(gradient is not None for gradient in gradients)


@pytest.mark.parametrize('arguments, message', [
    (['--api=slim,tf'], "--api must be slim, keras, keras3 or a comma list "
     "of them (slim,keras,keras3 times them side by side); got 'slim,tf'."),
    (['--api=slim,keras3', '--precision=bf16'], '--api=keras3 times the '
     'Keras 3 model in fp32 only: use --precision=fp32 with it.'),
    (['--api=slim,keras3', '--backend=mxnet'], '--backend must be '
     "tensorflow, jax, torch or a comma list of them; got 'mxnet'."),
    (['--api=keras', '--compare'], '--compare times the peers in the graph '
     'build only: use it with --api=slim, or drop it.'),
])
def test_bad_api_flags_are_one_line_errors(cli, capsys, arguments, message):
  with pytest.raises(SystemExit) as exit_info:
    run(cli, arguments)
  assert exit_info.value.code == 2
  assert capsys.readouterr().err.strip() == 'time_resnet_v2: error: ' + message

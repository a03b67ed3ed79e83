"""The benchmark's report: its numbers' shape and consistency, not the speed.

Oracles: TensorFlow's profiler (FLOPs per image), the ops TensorFlow
actually executes (the backward pass runs), Keras' and TF-Slim's parameter
counts (the peers are the same nets), and arithmetic on the reported
numbers themselves. Every net is tiny (32x32 images, a few batches).
"""

import io
import json
import sys

import numpy as np
import pytest
import tensorflow.compat.v1 as tf
from tensorflow.compat.v1.profiler import ProfileOptionBuilder

from resnet_v2.benchmark import comparison
from resnet_v2.benchmark import matmul_peak
from resnet_v2.benchmark import peers
from resnet_v2.benchmark import plot
from resnet_v2.benchmark import report
from resnet_v2.benchmark import runner
from resnet_v2.benchmark import spec as spec_lib
from resnet_v2.benchmark import timing
from resnet_v2.common import precision

JSON_KEYS = {'model', 'batch_size', 'image_size', 'mode', 'precision', 'xla',
             'num_batches', 'mean_sec_per_batch', 'sd_sec_per_batch',
             'images_per_sec', 'gflops_per_image', 'achieved_gflops',
             'peak_gflops', 'percent_of_peak'}
PEER_KEYS = {'name', 'mean_sec_per_batch', 'ratio_to_project'}

# A made-up peak, so the tests do not spend time measuring one.
PEAK = matmul_peak.PeakResult(gflops=100.0, size=2048, dtype='float32',
                              best_sec=0.17)

TINY = dict(batch_size=2, image_size=32, num_batches=2, num_burn_in=1)


def tiny_run(**fields):
  """``run_benchmark`` on a tiny spec, its progress lines discarded."""
  spec = spec_lib.BenchmarkSpec(**dict(TINY, **fields))
  return runner.run_benchmark(spec, PEAK, stream=io.StringIO())


@pytest.fixture(scope='module')
def compared():
  """resnet_v2_50 forward, timed against TF-Slim's and Keras' nets."""
  return tiny_run(model='resnet_v2_50', compare=True)


@pytest.fixture(scope='module')
def trained():
  """resnet_v2_18 forward-backward, alone."""
  return tiny_run(model='resnet_v2_18', mode='forward_backward')


def test_json_holds_the_documented_keys(compared, trained):
  assert set(trained.to_json()) == JSON_KEYS | {'median_sec_per_batch'}
  record = compared.to_json()
  assert set(record) == JSON_KEYS | {'median_sec_per_batch', 'peers'}
  assert all(PEER_KEYS <= set(peer) for peer in record['peers'])
  json.dumps(record)


def test_report_echoes_the_spec(trained):
  assert (trained.model, trained.mode, trained.batch_size, trained.image_size,
          trained.precision, trained.xla, trained.num_batches) == (
              'resnet_v2_18', 'forward_backward', 2, 32, 'fp32', False, 2)


@pytest.mark.parametrize('run', ['compared', 'trained'])
def test_speeds_follow_from_the_mean_step(run, request):
  result = request.getfixturevalue(run)
  assert result.mean_sec_per_batch > 0 and result.sd_sec_per_batch >= 0
  assert result.images_per_sec == pytest.approx(
      result.batch_size / result.mean_sec_per_batch)
  assert result.achieved_gflops == pytest.approx(
      result.gflops_per_image * result.images_per_sec)
  assert result.peak_gflops == PEAK.gflops
  assert result.percent_of_peak == pytest.approx(
      100 * result.achieved_gflops / PEAK.gflops)


def test_compare_lists_this_package_then_its_peers(compared):
  names = [peer.name for peer in compared.peers]
  assert names == ['resnet_v2 (this package)', 'tf_slim.nets.resnet_v2',
                   'tf_keras ResNet50V2']
  ours = compared.peers[0]
  assert ours.mean_sec_per_batch == compared.mean_sec_per_batch
  assert ours.ratio_to_project == 1.0
  assert all(peer.ratio_to_project > 0 for peer in compared.peers)


def test_peer_ratio_is_the_median_of_step_by_step_ratios():
  timings = {
      'ours': timing.TimingResult('ours', 0, 0, (1.0, 2.0, 4.0)),
      'peer': timing.TimingResult('peer', 0, 0, (1.5, 2.0, 8.0)),
  }
  ours, peer = comparison.peer_results(timings, 'ours')
  assert (ours.name, ours.ratio_to_project) == ('ours', 1.0)
  assert (peer.name, peer.median_sec_per_batch) == ('peer', 2.0)
  assert peer.ratio_to_project == 1.5


def profiled_flops(model, image_size):
  """The FLOPs TensorFlow's profiler counts for ``model`` at batch 1.

  Every op of the graph counts (convolutions, bias adds, residual sums,
  pooling, softmax) except the variable initializers, which run once, not
  once per image.
  """
  with tf.Graph().as_default() as graph:
    peers.build_project_net(model, tf.zeros([1, image_size, image_size, 3]),
                            is_training=False)
    options = (ProfileOptionBuilder(ProfileOptionBuilder.float_operation())
               .with_node_names(hide_name_regexes=['.*/Initializer/.*'])
               .with_empty_output().build())
    return tf.profiler.profile(graph, options=options).total_float_ops


@pytest.mark.parametrize('model', ['resnet_v2_18', 'resnet_v2_50'])
def test_gflops_per_image_agree_with_the_profiler_within_one_percent(model):
  reported = runner.gflops_per_image(model, 64, 'forward')
  assert reported * 1e9 == pytest.approx(profiled_flops(model, 64), rel=0.01)
  assert runner.gflops_per_image(model, 64, 'forward_backward') == (
      pytest.approx(3 * reported))


def test_trained_run_reports_three_times_the_forward_flops(trained):
  assert trained.gflops_per_image == pytest.approx(
      3 * runner.gflops_per_image('resnet_v2_18', 32, 'forward'))


@pytest.fixture(scope='module')
def three_nets():
  """This package's, TF-Slim's and Keras' resnet_v2_50 in training mode."""
  with tf.Graph().as_default() as graph:
    images = runner.benchmark_images(2, 32)
    built = {contender.name: contender.build('resnet_v2_50', images, True)
             for contender in peers.project_and_peers('resnet_v2_50')}
    yield graph, built


def test_peers_are_the_same_size_as_this_package(three_nets):
  _, built = three_nets
  sizes = {name: sum(variable.shape.num_elements()
                     for variable in outputs.trainable_variables)
           for name, outputs in built.items()}
  assert len(set(sizes.values())) == 1, sizes
  assert {len(outputs.update_ops) > 0 for outputs in built.values()} == {True}


def test_forward_backward_runs_the_backward_pass_and_the_updates(three_nets):
  graph, built = three_nets
  outputs = built['resnet_v2 (this package)']
  with graph.as_default():
    target = runner.timed_target(outputs, 'forward_backward')
    moving_mean = [v for v in tf.global_variables()
                   if v.op.name.startswith('resnet_v2_50/') and
                   v.op.name.endswith('/preact/moving_mean')][0]
    with tf.Session() as session:
      session.run(tf.global_variables_initializer())
      metadata = tf.RunMetadata()
      session.run(target,
                  options=tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE),
                  run_metadata=metadata)
      moved = session.run(moving_mean)
  executed = [node.timeline_label for device in metadata.step_stats.dev_stats
              for node in device.node_stats]
  assert sum('Conv2DBackpropFilter' in label for label in executed) >= 50
  assert np.any(moved != 0)


def test_forward_target_is_the_logits(three_nets):
  _, built = three_nets
  outputs = built['tf_keras ResNet50V2']
  assert runner.timed_target(outputs, 'forward') is outputs.logits
  assert outputs.logits.shape.as_list() == [2, 1000]


@pytest.mark.parametrize('model, names', [
    ('resnet_v2_200', ['resnet_v2 (this package)', 'tf_slim.nets.resnet_v2']),
    ('resnet_v1_101', ['resnet_v2 (this package)', 'tf_slim.nets.resnet_v1']),
    ('resnet_v2_18', ['resnet_v2 (this package)']),
])
def test_models_without_a_keras_or_slim_twin_get_fewer_peers(model, names):
  assert [peer.name for peer in peers.project_and_peers(model)] == names


@pytest.mark.skipif(not (precision.cpu_supports_bf16() or precision.has_gpu()),
                    reason='this machine has neither a GPU nor AVX512-BF16/AMX')
def test_bf16_run_reports_a_small_deviation_from_fp32():
  result = tiny_run(model='resnet_v2_18', precision='bf16')
  assert 0 < result.bf16_max_relative_deviation < 0.05
  assert set(result.to_json()) == JSON_KEYS | {
      'median_sec_per_batch', 'bf16_max_relative_deviation'}


def test_max_relative_deviation_is_relative_to_the_largest_value():
  reference = np.array([[4.0, -0.001], [2.0, -8.0]])
  values = np.array([[4.1, 0.001], [2.0, -8.0]])
  assert comparison.max_relative_deviation(values, reference) == (
      pytest.approx(0.1 / 8.0))
  assert comparison.max_relative_deviation(np.zeros(3), np.zeros(3)) == 0.0


def test_matmul_peak_is_the_flops_of_the_fastest_run(monkeypatch):
  clock = iter([0.0, 0.5, 1.0, 1.25, 2.0, 2.75])
  monkeypatch.setattr(matmul_peak.time, 'perf_counter', lambda: next(clock))
  peak = matmul_peak.measure_matmul_peak('fp32', size=64, num_runs=3)
  assert (peak.dtype, peak.size, peak.best_sec) == ('float32', 64, 0.25)
  assert peak.gflops == pytest.approx(2 * 64 ** 3 / 0.25 / 1e9)


@pytest.mark.parametrize('size, num_runs', [(0, 3), (64, 0), (64.0, 3)])
def test_matmul_peak_rejects_bad_sizes(size, num_runs):
  with pytest.raises(ValueError, match='size|num_runs'):
    matmul_peak.measure_matmul_peak('fp32', size=size, num_runs=num_runs)


@pytest.mark.parametrize('fields, message', [
    (dict(model='resnet_v2_51'), r"Unknown model name 'resnet_v2_51'.*"
     r'resnet_v2_50'),
    (dict(batch_size=0), 'batch_size must be an int >= 1'),
    (dict(num_batches=0), 'num_batches must be an int >= 1'),
    (dict(num_burn_in=-1), 'num_burn_in must be an int >= 0'),
    (dict(image_size=16), r'image_size=16 is too small for resnet_v2_50, '
     r'whose output stride is 32: use image_size >= 32'),
    (dict(mode='backward'), 'mode must be one of forward, forward_backward'),
    (dict(precision='fp16'), 'precision must be one of'),
    (dict(intra_op_threads=-2), 'intra_op_threads'),
])
def test_bad_specs_raise_one_value_error_saying_what_works(fields, message):
  with pytest.raises(ValueError, match=message):
    spec_lib.check_spec(spec_lib.BenchmarkSpec(**fields))


def test_sweep_specs_nest_models_then_precisions_then_modes():
  specs = spec_lib.sweep_specs(['resnet_v2_50', 'resnet_v2_101'],
                                ['forward', 'forward_backward'], ['fp32'],
                                batch_size=8)
  assert [(s.model, s.mode) for s in specs] == [
      ('resnet_v2_50', 'forward'), ('resnet_v2_50', 'forward_backward'),
      ('resnet_v2_101', 'forward'), ('resnet_v2_101', 'forward_backward')]
  assert {s.batch_size for s in specs} == {8}


def test_sweep_table_is_markdown_with_one_row_per_run(compared, trained):
  lines = report.sweep_table([compared, trained]).splitlines()
  assert len(lines) == 4
  assert lines[0].startswith('| model | mode | precision |')
  assert lines[1] == '|' + '|'.join(
      ['---'] * len(report.SWEEP_HEADERS)) + '|'
  assert lines[3].startswith('| resnet_v2_18 | forward_backward | fp32 | 2 |')
  assert all(line.count('|') == len(report.SWEEP_HEADERS) + 1
             for line in lines)


def test_peers_table_shows_every_net_and_its_ratio(compared):
  lines = report.peers_table(compared).splitlines()
  assert len(lines) == 5
  assert lines[2].startswith('| resnet_v2 (this package) |')
  assert lines[2].endswith('| 1.000 |')


def test_json_file_is_one_object_or_a_list_of_runs(compared, trained,
                                                   tmp_path):
  path = tmp_path / 'one.json'
  report.write_json([trained], str(path))
  assert json.loads(path.read_text()) == json.loads(
      json.dumps(trained.to_json()))
  report.write_json([compared, trained], str(path))
  assert [run['model'] for run in json.loads(path.read_text())['runs']] == [
      'resnet_v2_50', 'resnet_v2_18']


def test_plot_is_a_png(compared, trained, tmp_path):
  pytest.importorskip('matplotlib')
  path = tmp_path / 'speed.png'
  plot.plot_images_per_sec([compared, trained], str(path))
  assert path.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'


def test_unwritable_paths_are_refused(tmp_path):
  with pytest.raises(ValueError, match='is a directory'):
    report.check_writable(str(tmp_path), '--json_out')
  with pytest.raises(ValueError, match='not a writable directory'):
    report.check_writable(str(tmp_path / 'no' / 'out.json'),
                                    '--json_out')


def test_plotting_without_matplotlib_is_refused(monkeypatch):
  monkeypatch.setitem(sys.modules, 'matplotlib', None)
  with pytest.raises(ValueError, match=r'pip install "resnet_v2\[plots\]"'):
    plot.check_plotting_available()


def test_a_busy_machine_never_reports_more_than_the_peak(monkeypatch):
  # The peak before the run was slowed tenfold by other work; the faster
  # measurement after it is taken, and the share is capped at 100%.
  peaks = iter([matmul_peak.PeakResult(1.0, 128, 'float32', 0.1),
                matmul_peak.PeakResult(10000.0, 128, 'float32', 0.001)])
  monkeypatch.setattr(runner, 'measure_peak', lambda spec, stream: next(peaks))
  stream = io.StringIO()
  spec = spec_lib.BenchmarkSpec(model='resnet_v2_18', batch_size=1,
                                image_size=32, num_batches=2, num_burn_in=0)
  result, = runner.run_sweep([spec], stream)
  assert result.peak_gflops == 10000.0
  assert 0 < result.percent_of_peak <= 100.0
  assert 'The machine was busy: the matmul peak measured 1.0 GFLOP/s before ' \
      'this run and 10000.0 after' in stream.getvalue()

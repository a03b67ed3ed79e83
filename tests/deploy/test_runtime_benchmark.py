"""``time_resnet_v2.py --runtime``: the runtimes timed side by side.

A tiny net and two timed batches; the oracles are the issue's JSON keys
and table columns, TensorFlow fp32's own logits, and the support table.
"""

import contextlib
import importlib.util
import io
import json
import pathlib

import pytest

from resnet_v2.benchmark import runtimes
from resnet_v2.common import precision as precision_lib
from resnet_v2.deploy import formats

SCRIPT = pathlib.Path(__file__).resolve().parents[2] / 'benchmarks' / (
    'time_resnet_v2.py')
TINY = ['--model=resnet_v2_18', '--image_size=32', '--batch_size=2',
        '--num_batches=2', '--num_burn_in=0', '--calibration_images=2']
JSON_KEYS = ['runtime', 'precision', 'batch_size', 'median_sec_per_batch',
             'images_per_sec', 'latency_ms_batch1', 'speedup_vs_tf_fp32',
             'max_relative_deviation']
COLUMNS = ['runtime', 'precision', 'median sec/batch', 'images/sec',
           'batch-1 latency (ms)', 'speedup vs TF fp32',
           'max relative deviation']
BF16 = precision_lib.cpu_supports_bf16()
PRECISIONS = ['fp32'] + ['bf16'] * BF16 + ['int8']


@pytest.fixture(scope='module')
def cli():
  """The command-line module, imported once."""
  spec = importlib.util.spec_from_file_location('time_resnet_v2_runtimes',
                                                SCRIPT)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module


def run(cli, arguments):
  """Run ``main`` on ``arguments`` as the command line; return its results."""
  cli.FLAGS.unparse_flags()
  return cli.main(cli.parse_flags(['time_resnet_v2'] + arguments))


@pytest.fixture(scope='module')
def timed(cli, tmp_path_factory):
  """TensorFlow and LiteRT at every precision, with JSON and a chart."""
  folder = tmp_path_factory.mktemp('out')
  output = io.StringIO()
  with contextlib.redirect_stdout(output):
    results = run(cli, TINY + [
        '--runtime=tf,litert', '--precision=' + ','.join(PRECISIONS),
        '--json_out=%s' % (folder / 'runtimes.json'),
        '--plot_out=%s' % (folder / 'runtimes.png')])
  lines = output.getvalue().splitlines()
  return folder, results, lines


def test_each_supported_combination_is_timed_and_the_rest_skipped(timed):
  _, results, lines = timed
  expected = [('tf', 'fp32')] + [('tf', 'bf16')] * BF16 + [
      ('litert', 'fp32'), ('litert', 'int8')]
  assert [(r.runtime, r.precision) for r in results] == expected
  assert 'skipped tf int8: tf runs fp32, bf16.' in lines
  assert ('skipped litert bf16: litert runs fp32, int8.' in lines) == BF16


def test_the_json_holds_the_issue_keys_per_run(timed):
  folder, results, _ = timed
  runs = json.loads((folder / 'runtimes.json').read_text())['runs']
  assert [list(record) for record in runs] == [JSON_KEYS] * len(results)
  for record, result in zip(runs, results):
    assert record == pytest.approx(result.to_json())
    assert record['batch_size'] == 2
    assert record['images_per_sec'] == pytest.approx(
        2 / record['median_sec_per_batch'])


def test_speed_and_logits_are_relative_to_tensorflow_fp32(timed):
  _, results, _ = timed
  by_kind = {(r.runtime, r.precision): r for r in results}
  baseline = by_kind['tf', 'fp32']
  assert (baseline.speedup_vs_tf_fp32, baseline.max_relative_deviation) == (
      1.0, 0.0)
  assert by_kind['litert', 'fp32'].max_relative_deviation < 1e-4
  assert 0 < by_kind['litert', 'int8'].max_relative_deviation < 0.5
  litert = by_kind['litert', 'fp32']
  assert litert.speedup_vs_tf_fp32 == pytest.approx(
      baseline.median_sec_per_batch / litert.median_sec_per_batch)


def test_the_table_has_the_issue_columns_and_the_chart_is_a_png(timed):
  folder, results, lines = timed
  header = next(line for line in lines if line.startswith('| runtime'))
  assert [cell.strip() for cell in header.strip('|').split('|')] == COLUMNS
  rows = [line for line in lines if line.startswith('| tf') or
          line.startswith('| litert')]
  assert len(rows) == len(results)
  assert (folder / 'runtimes.png').read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'


def test_the_plan_follows_the_support_table():
  pairs, skipped = runtimes.plan(['openvino', 'onnxruntime'],
                                 ['int8'] + ['bf16'] * BF16 + ['fp32'])
  assert pairs == [('tf', 'fp32'), ('openvino', 'int8')] + [
      ('openvino', 'bf16')] * BF16 + [('openvino', 'fp32'),
                                      ('onnxruntime', 'int8'),
                                      ('onnxruntime', 'fp32')]
  assert ('skipped onnxruntime bf16: onnxruntime runs fp32, int8.'
          in skipped) == BF16


@pytest.mark.parametrize('arguments,message', [
    (['--runtime=tf,tensorrt'], 'runtime must be one of tf, litert, '
     "onnxruntime, openvino; got 'tensorrt'."),
    (['--runtime=openvino', '--precision=int4'],
     "--precision must name some of fp32, bf16, int8; got 'int4'."),
    (['--runtime=tf', '--calibration_images=0'],
     'calibration_images must be an int >= 1; got 0.'),
])
def test_bad_input_is_one_line_and_exit_2(cli, capsys, arguments, message):
  with pytest.raises(SystemExit) as exit_info:
    run(cli, TINY[:-1] + arguments)
  assert exit_info.value.code == 2
  assert capsys.readouterr().err.splitlines() == [
      'time_resnet_v2: error: ' + message]


def test_a_runtime_that_is_not_installed_names_the_pip_command(
    cli, capsys, monkeypatch):
  find_spec = formats.importlib.util.find_spec
  monkeypatch.setattr(formats.importlib.util, 'find_spec',
                      lambda name: None if name == 'ai_edge_litert'
                      else find_spec(name))
  with pytest.raises(SystemExit):
    run(cli, TINY + ['--runtime=litert'])
  assert capsys.readouterr().err.splitlines() == [
      'time_resnet_v2: error: format tflite needs ai_edge_litert, which is '
      'not installed: pip install "resnet_v2[litert]"']


def test_a_precision_this_cpu_lacks_is_refused_with_status_2(
    cli, capsys, monkeypatch):
  monkeypatch.setattr(precision_lib, 'cpu_flags', set)
  monkeypatch.setattr(precision_lib, 'has_gpu', lambda: False)
  with pytest.raises(SystemExit) as exit_info:
    run(cli, TINY + ['--runtime=openvino', '--precision=bf16'])
  assert exit_info.value.code == 2
  output = capsys.readouterr()
  assert output.out == ''
  assert output.err.splitlines() == [
      'time_resnet_v2: error: --runtime=openvino --precision=bf16 cannot run '
      'here: precision=bf16 needs a GPU or a CPU with AVX512-BF16 or AMX '
      '(/proc/cpuinfo flag avx512_bf16 or amx_bf16), and this machine has '
      "neither; use precision='fp32'."]


def test_a_runtime_asked_for_a_precision_it_never_runs_is_refused(
    cli, capsys):
  with pytest.raises(SystemExit) as exit_info:
    run(cli, TINY + ['--runtime=litert', '--precision=bf16'])
  assert exit_info.value.code == 2
  assert capsys.readouterr().err.splitlines() == [
      'time_resnet_v2: error: --runtime=litert --precision=bf16 times '
      'nothing: litert runs fp32, int8.']

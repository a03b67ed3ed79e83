"""``time_resnet_v2.py``: flags in, report and JSON out, one-line errors.

The command runs in-process through its ``parse_flags`` and ``main`` (one
subprocess checks the real exit path); oracles are the issue's JSON keys,
the classic summary line and the flags given.
"""

import importlib.util
import json
import os
import pathlib
import subprocess
import sys

import pytest

from resnet_v2.benchmark import matmul_peak
from resnet_v2.common import precision

SCRIPT = pathlib.Path(__file__).resolve().parents[2] / 'benchmarks' / (
    'time_resnet_v2.py')
TINY = ['--model=resnet_v2_18', '--batch_size=1', '--image_size=32',
        '--num_batches=2', '--num_burn_in=0']


@pytest.fixture(scope='module')
def cli():
  """The command-line module, imported once."""
  spec = importlib.util.spec_from_file_location('time_resnet_v2', SCRIPT)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module


@pytest.fixture(scope='module')
def fast_peak(cli):
  """Measure the matmul peak on small matrices, to keep the tests short."""
  del cli
  patch = pytest.MonkeyPatch()
  patch.setattr(matmul_peak, 'DEFAULT_SIZE', 128)
  yield
  patch.undo()


def run(cli, arguments):
  """Run ``main`` on ``arguments`` as the command line; return its results."""
  cli.FLAGS.unparse_flags()
  return cli.main(cli.parse_flags(['time_resnet_v2'] + arguments))


@pytest.fixture(scope='module')
def both_modes(cli, fast_peak, tmp_path_factory):
  """A tiny forward and forward-backward run with --json_out, and its stdout."""
  del fast_peak
  path = tmp_path_factory.mktemp('out') / 'speed.json'
  return path, run(cli, TINY + ['--mode=both', '--json_out=%s' % path])


def test_defaults_are_the_documented_main_job(cli):
  cli.FLAGS.unparse_flags()
  cli.parse_flags(['time_resnet_v2'])
  flags = cli.FLAGS
  assert (flags.model, flags.batch_size, flags.image_size, flags.mode,
          flags.precision, flags.xla, flags.compare) == (
              'resnet_v2_50', 32, 224, 'forward', ['fp32'], False, False)


def test_both_modes_run_forward_then_forward_backward(both_modes):
  _, results = both_modes
  assert [(r.model, r.mode, r.batch_size, r.image_size, r.num_batches)
          for r in results] == [
              ('resnet_v2_18', 'forward', 1, 32, 2),
              ('resnet_v2_18', 'forward_backward', 1, 32, 2)]


def test_json_out_holds_one_record_per_run(both_modes):
  path, results = both_modes
  runs = json.loads(path.read_text())['runs']
  assert [run['mode'] for run in runs] == ['forward', 'forward_backward']
  assert runs[0]['mean_sec_per_batch'] == results[0].mean_sec_per_batch
  assert {'images_per_sec', 'gflops_per_image', 'achieved_gflops',
          'peak_gflops', 'percent_of_peak'} <= set(runs[1])


def test_prints_progress_the_summary_line_and_a_markdown_table(cli, fast_peak,
                                                               capsys):
  del fast_peak
  run(cli, TINY)
  out = capsys.readouterr().out
  assert 'Measuring the fp32 matmul peak' in out
  assert 'Building resnet_v2 (this package): resnet_v2_18 forward graph' in out
  assert ': step 0, duration = ' in out
  assert ('resnet_v2_18 forward (fp32, batch 1, 32x32) across 2 steps, ' in
          out)
  assert '| model | mode | precision |' in out
  assert '| resnet_v2_18 | forward | fp32 | 1 | 32 |' in out


def test_depths_sweep_every_model(cli, fast_peak):
  del fast_peak
  results = run(cli, TINY + ['--depths=resnet_v2_18,resnet_v2_34'])
  assert [r.model for r in results] == ['resnet_v2_18', 'resnet_v2_34']


@pytest.mark.parametrize('arguments, message', [
    (['--model=resnet_v2_49'], "Unknown model name 'resnet_v2_49': choose "
     'one of resnet_v2_18'),
    (['--batch_size=0'], 'batch_size must be an int >= 1; got 0.'),
    (['--num_batches=0'], 'num_batches must be an int >= 1; got 0.'),
    (['--image_size=16'], 'image_size=16 is too small for resnet_v2_50'),
    (['--mode=train'], '--mode must be forward, forward_backward or both'),
    (['--precision=fp16'], "precision must be one of 'fp32', 'bf16'"),
    (['--batch_size=many'], '--batch_size=many is not a whole number: pass '
     'e.g. --batch_size=32'),
    (['--json_out=/no/such/dir/speed.json'], '--json_out=/no/such/dir/'
     'speed.json cannot be written'),
    (['resnet_v2_50'], 'unexpected arguments resnet_v2_50'),
])
def test_bad_input_is_one_line_on_stderr_and_exit_2(cli, capsys, arguments,
                                                    message):
  with pytest.raises(SystemExit) as exit_info:
    run(cli, arguments)
  assert exit_info.value.code == 2
  err = capsys.readouterr().err
  assert err.count('\n') == 1
  assert err.startswith('time_resnet_v2: error: ')
  assert message in err


def test_bf16_without_the_hardware_is_refused(cli, capsys, monkeypatch):
  monkeypatch.setattr(precision, 'has_gpu', lambda: False)
  monkeypatch.setattr(precision, 'cpu_flags', lambda: {'avx2'})
  with pytest.raises(SystemExit) as exit_info:
    run(cli, ['--precision=bf16'])
  assert exit_info.value.code == 2
  assert 'precision=bf16 needs a GPU or a CPU with AVX512-BF16 or AMX' in (
      capsys.readouterr().err)


def test_the_script_exits_non_zero_without_a_traceback():
  environment = dict(os.environ, TF_CPP_MIN_LOG_LEVEL='3')
  finished = subprocess.run(
      [sys.executable, str(SCRIPT), '--model=nope'], capture_output=True,
      text=True, env=environment, timeout=120, check=False)
  assert finished.returncode == 2
  assert 'Traceback' not in finished.stderr
  assert finished.stderr.splitlines()[-1].startswith(
      "time_resnet_v2: error: Unknown model name 'nope'")
  assert finished.stdout == ''


def test_help_lists_the_flags_and_exits_0(cli, capsys):
  with pytest.raises(SystemExit) as exit_info:
    cli.parse_flags(['time_resnet_v2', '--help'])
  assert exit_info.value.code == 0
  out = capsys.readouterr().out
  assert '--num_batches=100 --num_burn_in=10' in out
  for flag in ('--model', '--depths', '--precision', '--compare', '--json_out',
               '--plot_out', '--inter_op_threads'):
    assert flag in out

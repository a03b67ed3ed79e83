"""Start-up: what loads, what is printed, and a flag given to the wrong command.

Oracles: Python's own import record (``-X importtime`` and
``sys.modules``), the exact stderr of real command runs, and the flags
each command really defines.
"""

import os
import re
import subprocess
import sys

import pytest

from resnet_v2 import evaluate
from resnet_v2 import summary
from resnet_v2 import train
from resnet_v2.common import cli
from resnet_v2.common import flag_owners

from image_sets import MODEL

# TensorFlow's C++ runtime lines: absl's pre-initialisation notice, its
# "I0000"/"E0000" lines, the CUDA probe and oneDNN notices.
_RUNTIME_NOISE = re.compile(
    r'absl::InitializeLog|^[IWEF]0000 |cuInit|cuda|oneDNN|TF_ENABLE_ONEDNN')
# A log line of the package itself: absl's format, a module of ours.
_OWN_LOG_LINE = re.compile(r'^[IW]\d{4} [\d:.]+ +\d+ (\w+)\.py:\d+\] ')
_HEAVY = ('tensorflow', 'tf_slim', 'tf_keras', 'keras')


def _run(arguments, **kwargs):
  """Run ``python <arguments>`` with a timeout; the CompletedProcess."""
  return subprocess.run([sys.executable] + arguments, capture_output=True,
                        text=True, timeout=300, check=False, **kwargs)


def _imported_top_level(importtime_stderr):
  """Top-level package names listed by ``python -X importtime``."""
  names = set()
  for line in importtime_stderr.splitlines():
    if line.startswith('import time:') and '|' in line:
      names.add(line.rsplit('|', 1)[1].strip().split('.')[0])
  return names


def test_the_summary_command_never_imports_tensorflow():
  result = _run(['-X', 'importtime', '-m', 'resnet_v2.summary'])
  assert result.returncode == 0, result.stderr[-2000:]
  assert 'resnet_v2_50 ' in result.stdout
  imported = _imported_top_level(result.stderr)
  assert 'resnet_v2' in imported
  assert not imported & set(_HEAVY), sorted(imported & set(_HEAVY))


def test_describe_strides_and_the_model_table_need_no_tensorflow():
  code = (
      'import sys, resnet_v2\n'
      'from resnet_v2.nets import model_table\n'
      'd = resnet_v2.describe("resnet_v2_101", 320, 21)\n'
      'print(d.total_params, resnet_v2.unit_output_strides("resnet_v1_50")'
      '[-1], len(resnet_v2.list_models()), len(model_table.summary_rows()))\n'
      'print(sorted(m for m in %r if m in sys.modules))\n' % (_HEAVY,))
  result = _run(['-c', code])
  assert result.returncode == 0, result.stderr[-2000:]
  sizes, heavy = result.stdout.splitlines()
  assert heavy == '[]'
  assert sizes.split()[-2:] == ['11', '11']


def test_tensorflow_loads_quietly_and_fixed_for_tf_slim_after_the_package():
  code = ('import resnet_v2, sys\n'
          'assert "tensorflow" not in sys.modules\n'
          'import tensorflow as tf, tf_slim as slim\n'
          'from tensorflow.python.framework import ops\n'
          'print(ops.Tensor is tf.Tensor)\n')
  environment = dict(os.environ)
  environment.pop('TF_CPP_MIN_LOG_LEVEL', None)
  result = _run(['-c', code], env=environment)
  assert result.returncode == 0, result.stderr[-2000:]
  assert result.stdout.strip() == 'True'
  assert result.stderr == ''


@pytest.fixture(scope='module')
def command_runs(images, tmp_path_factory):
  """Train two steps, evaluate, export and summarise, as a user would."""
  work = tmp_path_factory.mktemp('quiet')
  train_dir, export_dir = str(work / 'run'), str(work / 'export')
  environment = dict(os.environ)
  environment.pop('TF_CPP_MIN_LOG_LEVEL', None)
  commands = {
      'train': ['-m', 'resnet_v2.train', '--data_dir=%s' % images,
                '--train_dir=%s' % train_dir, '--model=%s' % MODEL,
                '--image_size=32', '--batch_size=4', '--max_steps=2'],
      'evaluate': ['-m', 'resnet_v2.evaluate', '--train_dir=%s' % train_dir,
                   '--data_dir=%s' % images, '--batch_size=4'],
      'export': ['-m', 'resnet_v2.export', '--train_dir=%s' % train_dir,
                 '--export_dir=%s' % export_dir],
      'summary': ['-m', 'resnet_v2.summary'],
  }
  return {name: _run(arguments, env=environment)
          for name, arguments in commands.items()}


@pytest.mark.parametrize('command', ['train', 'evaluate', 'export', 'summary'])
def test_each_command_prints_only_its_own_output(command_runs, command):
  result = command_runs[command]
  assert result.returncode == 0, result.stderr[-2000:]
  assert result.stdout
  for line in result.stderr.splitlines():
    assert not _RUNTIME_NOISE.search(line), line
    assert _OWN_LOG_LINE.match(line), line


def test_a_flag_of_another_command_names_that_command():
  result = _run(['-m', 'resnet_v2.evaluate', '--train_dir=/nowhere',
                 '--max_steps=5'])
  assert result.returncode == 2
  assert result.stdout == ''
  assert result.stderr.splitlines() == [
      'error: --max_steps is a flag of python -m resnet_v2.train, python '
      'benchmarks/train_digits.py, not of python -m resnet_v2.evaluate: run '
      "it there, or see --help for this command's flags."]


def test_the_summary_names_every_command_that_takes_train_dir():
  result = _run(['-m', 'resnet_v2.summary', '--train_dir=run'])
  assert result.returncode == 2
  assert result.stderr.startswith(
      'error: --train_dir is a flag of python -m resnet_v2.train, python -m '
      'resnet_v2.evaluate, python -m resnet_v2.export, python '
      'benchmarks/time_resnet_v2.py, not of python -m resnet_v2.summary')
  assert len(result.stderr.splitlines()) == 1


@pytest.mark.parametrize('flag, module, owner', [
    ('max_steps', evaluate, train),
    ('nostrict', summary, evaluate),
    ('model', summary, train),
])
def test_the_named_command_really_takes_the_flag(flag, module, owner):
  owners = flag_owners.owners(flag, module.__file__)
  assert 'python -m %s' % owner.__name__ in owners
  assert flag_owners.command_for(module.__file__) not in owners
  name = flag[2:] if flag.startswith('no') and flag not in owner.FLAGS else flag
  assert name in owner.FLAGS


def test_a_flag_no_command_takes_keeps_absl_advice(capsys):
  with pytest.raises(SystemExit) as exit_info:
    cli.parse(summary.FLAGS, [summary.__file__, '--image_sise=3'],
              summary.__doc__)
  assert exit_info.value.code == 2
  assert capsys.readouterr().err == (
      "error: Unknown command line flag 'image_sise'. Did you mean: "
      'image_size ? (see --help for the flags this command takes).\n')

"""``python -m resnet_v2.summary``: one table of every registered model.

Oracles: ``describe`` (itself checked against the graph and the profiler)
and the published numbers of resnet_v2_50 at 224x224.
"""

import subprocess
import sys

import pytest

import resnet_v2
from resnet_v2.common import cli
from resnet_v2 import summary
from resnet_v2.nets import model_table


@pytest.fixture
def parsed_flags():
  """Parse the summary's flags with their defaults; restore afterwards."""
  summary.FLAGS(['summary'])
  yield summary.FLAGS
  summary.FLAGS.unparse_flags()


def test_one_row_per_registered_model():
  rows = model_table.summary_rows()
  assert [row[0] for row in rows] == resnet_v2.list_models()
  assert all(len(row) == len(model_table.HEADERS) for row in rows)


def test_resnet_v2_50_row():
  rows = {row[0]: row for row in model_table.summary_rows()}
  assert rows['resnet_v2_50'] == (
      'resnet_v2_50', '3-4-6-3 bottleneck', '25.61', '25.57', '3.48',
      '8/16/32/32', '7x7x2048')
  assert rows['resnet_v2_18'][1] == '2-2-2-2 basic'
  assert rows['resnet_v1_101'][1] == '3-4-23-3 bottleneck_v1'


def test_rows_follow_describe_at_other_sizes():
  rows = {row[0]: row for row in model_table.summary_rows(320, 21)}
  description = resnet_v2.describe('resnet_v2_101', 320, 21)
  assert rows['resnet_v2_101'][2] == '%.2f' % (description.total_params / 1e6)
  assert rows['resnet_v2_101'][4] == '%.2f' % (
      description.multiply_adds / 1e9)
  assert rows['resnet_v2_101'][6] == '10x10x2048'


def test_main_prints_the_table(parsed_flags, capsys):
  assert summary.main() == 0
  lines = capsys.readouterr().out.splitlines()
  assert lines[0].startswith('All registered models at 224x224, 1000 classes')
  assert lines[2].split() == ['model', 'units', 'per', 'block', 'params',
                              '(M)', 'trainable', '(M)', 'mult-adds', '(G)',
                              'block', 'strides', 'output']
  assert len(lines) == 4 + len(resnet_v2.list_models())


def test_unparsable_flag_is_one_line_on_stderr():
  with pytest.raises(SystemExit) as exit_info:
    cli.run(summary.main, summary.FLAGS, summary.__doc__,
                     argv=['summary', '--image_size=big'])
  assert exit_info.value.code == 2


def _summary(*arguments):
  """Run the summary command; the CompletedProcess."""
  return subprocess.run(
      [sys.executable, '-m', 'resnet_v2.summary'] + list(arguments),
      capture_output=True, text=True, check=False, timeout=120)


@pytest.mark.parametrize('argument, message', [
    ('--image_size=0', 'error: image_size=0 is too small for resnet_v2_18, '
     'whose output stride is 32: use image_size >= 32 (224 is the standard '
     'size).'),
    ('--image_size=31', 'error: image_size=31 is too small for resnet_v2_18, '
     'whose output stride is 32: use image_size >= 32 (224 is the standard '
     'size).'),
    ('--num_classes=-1', 'error: num_classes must be a positive int (the '
     'number of logits), or None/0 to return features without a logits '
     'layer; got -1.'),
])
def test_bad_flag_is_one_line_on_stderr(argument, message):
  result = _summary(argument)
  assert result.returncode == 2
  assert result.stdout == ''
  assert result.stderr.splitlines() == [message]


def test_the_advised_minimum_size_works():
  result = _summary('--image_size=32')
  assert result.returncode == 0, result.stderr
  assert 'resnet_v2_50 ' in result.stdout and '1x1x2048' in result.stdout

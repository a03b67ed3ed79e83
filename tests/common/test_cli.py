"""The command-line convention: what ``cli.parse`` and ``cli.run`` answer.

Oracles: the exact stderr line and exit status for each kind of mistake,
and the values absl parsed when the command line was right.
"""

from absl import flags
import pytest

from resnet_v2.common import cli


@pytest.fixture
def flag_values():
  """A small command's flags: a count, a rate, a switch, a required path."""
  values = flags.FlagValues()
  flags.DEFINE_integer('batch_size', 32, 'Images per batch.',
                       flag_values=values)
  flags.DEFINE_float('learning_rate', 0.1, 'Initial rate.',
                     flag_values=values)
  flags.DEFINE_boolean('strict', False, 'Fail on a bad image.',
                       flag_values=values)
  flags.DEFINE_string('data_dir', None, 'Folder of class subfolders.',
                      flag_values=values)
  flags.DEFINE_integer('max_steps', None, 'Steps to train.',
                       flag_values=values)
  flags.mark_flag_as_required('data_dir', flag_values=values)
  return values


def _refusal(flag_values, capsys, *arguments):
  """``(exit status, stderr)`` of parsing a refused command line."""
  with pytest.raises(SystemExit) as exit_info:
    cli.parse(flag_values, ['tool'] + list(arguments), 'doc')
  return exit_info.value.code, capsys.readouterr().err


def test_values_given_as_the_next_word_are_not_stray(flag_values):
  cli.parse(flag_values, ['tool', '--learning_rate', '-0.5', '--strict',
                          '--data_dir', 'photos'], 'doc')
  assert (flag_values.learning_rate, flag_values.strict,
          flag_values.data_dir) == (-0.5, True, 'photos')


@pytest.mark.parametrize('arguments, message', [
    (['photos', '--data_dir=x'], 'error: unexpected arguments photos: every '
     'option is a --flag (see --help).\n'),
    (['--strict', 'photos', '--data_dir=x'], 'error: unexpected arguments '
     'photos: every option is a --flag (see --help).\n'),
    (['--data_dir=x', '--', 'more'], 'error: unexpected arguments more: '
     'every option is a --flag (see --help).\n'),
    (['--data_dir=x', '--batch_size=12.5'], 'error: --batch_size=12.5 is not '
     'a whole number: pass e.g. --batch_size=32 (the default).\n'),
    (['--data_dir=x', '--learning_rate=fast'], 'error: --learning_rate=fast '
     'is not a number: pass e.g. --learning_rate=0.1 (the default).\n'),
    (['--data_dir=x', '--max_steps=many'], 'error: --max_steps=many is not '
     'a whole number: pass e.g. --max_steps=10.\n'),
    ([], 'error: --data_dir is required: Folder of class subfolders.\n'),
    (['--data_dir=x', '--batch_sise=3'], "error: Unknown command line flag "
     "'batch_sise'. Did you mean: batch_size ? (see --help for the flags "
     'this command takes).\n'),
])
def test_each_mistake_is_one_line_and_status_2(flag_values, capsys,
                                                 arguments, message):
  assert _refusal(flag_values, capsys, *arguments) == (2, message)


def test_the_advised_values_parse(flag_values):
  cli.parse(flag_values, ['tool', '--data_dir=x', '--batch_size=32',
                          '--learning_rate=0.1', '--max_steps=10'], 'doc')
  assert (flag_values.batch_size, flag_values.learning_rate,
          flag_values.max_steps) == (32, 0.1, 10)


def test_ctrl_c_outside_training_is_one_line_and_status_130(flag_values,
                                                            capsys):
  def main():
    raise KeyboardInterrupt
  with pytest.raises(SystemExit) as exit_info:
    cli.run(main, flag_values, 'doc', argv=['tool', '--data_dir=x'])
  assert exit_info.value.code == 130
  assert capsys.readouterr().err == 'interrupted (Ctrl-C).\n'

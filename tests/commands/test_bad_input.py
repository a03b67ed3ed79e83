"""Bad input to every command, typed as a user types it.

Each case runs one command in a subprocess (no TF_CPP_MIN_LOG_LEVEL in its
environment, as in a fresh shell) and expects exit status 2, one
``error: ...`` line on stderr that names the flag, file or class and says
what would work, and no change to any folder the command was given: the
relative paths, sizes and modification times of every file below it are
the same afterwards, and a folder that did not exist still does not. For
the batch size, the image size and a train_dir of another model, the
advice is followed and the run then trains.

Scripts, the digits writer and one case of each package command (its stray
argument, the first thing ``cli.run`` checks) run as real processes, a few
at a time; every other case of a package command goes through the same
``cli.run`` path inside this process, which spares each case a TensorFlow
import of its own. The tests then check the outcomes one by one.
"""

import collections
import concurrent.futures
import contextlib
import importlib
import io
import os
import pathlib
import re
import shutil
import subprocess
import sys

import pytest

from resnet_v2 import training
from resnet_v2.common import cli

from image_sets import small_options
from image_sets import write_grey_classes

REPO = pathlib.Path(__file__).resolve().parents[2]
TIMEOUT = 300
PARALLEL_RUNS = 3

TRAIN = ['-m', 'resnet_v2.train', '--model=resnet_v2_18', '--image_size=32',
         '--batch_size=4']
EVALUATE = ['-m', 'resnet_v2.evaluate']
EXPORT = ['-m', 'resnet_v2.export']
BENCHMARK = ['benchmarks/time_resnet_v2.py', '--model=resnet_v2_18',
             '--image_size=32', '--batch_size=1', '--num_batches=1',
             '--num_burn_in=0']
DIGITS_PROOF = ['benchmarks/train_digits.py']
DIGITS = ['-m', 'resnet_v2.data.digits']
SUMMARY = ['-m', 'resnet_v2.summary']

Case = collections.namedtuple('Case', ['id', 'command', 'arguments',
                                       'expected', 'prefix', 'table'])


def case(case_id, command, arguments, *expected, prefix='error: ',
         table=False):
  """One bad command line and the phrases its error message must hold.

  ``arguments`` may name the prepared folders as ``{images}``, ``{run}``,
  ... (see ``places``); ``{new}`` is a path that does not exist yet.
  ``table``: the message is the documented table of a refused resume (its
  first line, the table, and a last line with the way out), not one line.
  """
  return Case(case_id, command, arguments, expected, prefix, table)


def train_case(case_id, arguments, *expected, table=False):
  """A train case on the three-class images, into a new train_dir, one step
  unless the case sets the steps itself."""
  steps = [] if any(a.startswith(('--max_steps', '--epochs'))
                    for a in arguments) else ['--max_steps=1']
  defaults = ['--data_dir={images}', '--train_dir={new}']
  given = {a.split('=')[0] for a in arguments}
  base = [a for a in defaults if a.split('=')[0] not in given]
  return case(case_id, TRAIN, base + steps + arguments, *expected,
              table=table)


def evaluate_case(case_id, arguments, *expected):
  """An evaluate case on the trained run and the three-class images."""
  defaults = ['--data_dir={images}', '--train_dir={run}']
  given = {a.split('=')[0] for a in arguments}
  return case(case_id, EVALUATE,
              [a for a in defaults if a.split('=')[0] not in given] +
              arguments, *expected)


def export_case(case_id, arguments, *expected):
  """An export case of the trained run into a new export_dir."""
  defaults = ['--train_dir={run}', '--export_dir={new}']
  given = {a.split('=')[0] for a in arguments}
  return case(case_id, EXPORT,
              [a for a in defaults if a.split('=')[0] not in given] +
              arguments, *expected)


CASES = [
    # train: numbers out of range, non-finite or unparsable.
    train_case('train-learning_rate-nan', ['--learning_rate=nan'],
               'learning_rate must be a finite number > 0', 'nan'),
    train_case('train-momentum-1', ['--momentum=1'],
               'momentum must be a finite number in [0, 1)'),
    train_case('train-weight_decay-negative', ['--weight_decay=-1'],
               'weight_decay must be a finite number >= 0'),
    train_case('train-warmup_steps-negative', ['--warmup_steps=-1'],
               'warmup_steps must be an int >= 0'),
    train_case('train-batch_norm_decay-0', ['--batch_norm_decay=0'],
               'batch_norm_decay must be a finite number in (0, 1)',
               'e.g. 0.997'),
    train_case('train-min_crop_area-0', ['--min_crop_area=0'],
               'min_crop_area must be a finite number in (0, 1]'),
    train_case('train-max_steps-0', ['--max_steps=0'],
               'max_steps must be an int >= 1'),
    train_case('train-log_every-0', ['--log_every=0'],
               'log_every must be an int >= 1'),
    train_case('train-batch_size-0', ['--batch_size=0'],
               'batch_size must be an int >= 1'),
    train_case('train-batch_size-abc', ['--batch_size=abc'],
               '--batch_size=abc is not a whole number',
               'pass e.g. --batch_size=32'),
    train_case('train-image_size-0', ['--image_size=0'],
               'image_size=0 is too small for resnet_v2_18',
               'use image_size >= 32'),
    train_case('train-validation_split-1', ['--validation_split=1'],
               'validation_split must be a finite number in [0, 1)'),
    # train: every enum.
    train_case('train-model', ['--model=resnet_v2_19'], '--model=resnet_v2_19',
               'resnet_v2_18|'),
    train_case('train-precision', ['--precision=fp16'], '--precision=fp16',
               '<fp32|bf16>'),
    train_case('train-strategy', ['--strategy=tpu'], '--strategy=tpu',
               '<default|mirrored|multi_worker>'),
    # train: paths.
    train_case('train-data_dir-missing', ['--data_dir={missing}'],
               "data_dir '{missing}' does not exist",
               'one subfolder of images per class'),
    train_case('train-data_dir-empty', ['--data_dir={empty}'],
               "data_dir '{empty}' has no class subfolders",
               'put the images of each class in their own subfolder'),
    train_case('train-one-class', ['--data_dir={one_class}'],
               'only one class (class_0)', 'at least two class subfolders'),
    train_case('train-unreadable-class', ['--data_dir={unreadable}'],
               "class 'class_2' has no training images after decoding",
               'replace them with readable images'),
    train_case('train-train_dir-file', ['--train_dir={file}'],
               "train_dir '{file}' is a file, not a folder",
               'pass a folder path'),
    train_case('train-train_dir-other-classes',
               ['--data_dir={two_classes}', '--train_dir={run}'],
               "train_dir '{run}' holds a run of model resnet_v2_18 with 3 "
               'classes', 'Pass a new --train_dir', table=True),
    train_case('train-train_dir-damaged-run-json', ['--train_dir={damaged}'],
               '{damaged}/run.json cannot be read', 'pass a new --train_dir'),
    case('train-train_dir-missing', TRAIN, ['--data_dir={images}'],
         '--train_dir is required', 'Folder for checkpoints'),
    train_case('train-train_dir-parent-missing', ['--train_dir={missing}/run'],
               "train_dir '{missing}/run' cannot be made: its parent folder "
               "'{missing}' does not exist", 'mkdir -p {missing}'),
    # train: flag files.
    train_case('train-flagfile-unknown-flag', ['--flagfile={flags_unknown}'],
               'flagfile {flags_unknown} line 3: --bogus is not a flag of '
               'this command', 'see --help'),
    train_case('train-flagfile-not-a-flag', ['--flagfile={flags_malformed}'],
               "flagfile {flags_malformed} line 2: 'batch_size 4' is not a "
               'flag', 'write one --flag=value per line'),
    train_case('train-flagfile-flag-and-value-apart',
               ['--flagfile={flags_spaced}'],
               "flagfile {flags_spaced} line 1: '--batch_size 4' is not one "
               '--flag=value', 'write --batch_size=4'),
    train_case('train-flagfile-bad-value', ['--flagfile={flags_bad_value}'],
               'flagfile {flags_bad_value} line 1: --batch_size=four does not '
               'parse'),
    train_case('train-flagfile-other-commands-flag',
               ['--flagfile={flags_other_command}'],
               'flagfile {flags_other_command} line 1: --subset is a flag of '
               'python -m resnet_v2.evaluate, not of python -m resnet_v2.train'),
    train_case('train-flagfile-missing', ['--flagfile={missing}.flags'],
               '--flagfile={missing}.flags cannot be read (No such file or '
               'directory)', 'a text file of --flag=value lines'),
    train_case('train-flagfile-includes-a-missing-one',
               ['--flagfile={flags_nested}'],
               'flagfile {flags_nested} line 1: --flagfile={missing}.flags '
               'cannot be read'),
    train_case('train-seed-negative', ['--seed=-1'],
               'seed must be an int in [0, 2**32 - 1]'),
    train_case('train-stray-argument', ['photos'],
               'unexpected arguments photos', 'every option is a --flag'),
    # evaluate.
    evaluate_case('evaluate-batch_size-0', ['--batch_size=0'],
                  'batch_size must be an int >= 1'),
    evaluate_case('evaluate-subset', ['--subset=test'], '--subset=test',
                  '<auto|all|training|validation>'),
    evaluate_case('evaluate-data_dir-missing', ['--data_dir={missing}'],
                  "data_dir '{missing}' does not exist",
                  'one subfolder of images per class'),
    evaluate_case('evaluate-unreadable-class', ['--data_dir={unreadable}'],
                  "class 'class_2' has no evaluation images after decoding",
                  'replace them with readable images'),
    evaluate_case('evaluate-train_dir-without-run-json',
                  ['--train_dir={no_record}'],
                  "'{no_record}' has no run.json",
                  'pass the --train_dir of a run of python -m resnet_v2.train'),
    evaluate_case('evaluate-train_dir-without-checkpoint',
                  ['--train_dir={no_checkpoint}'],
                  "train_dir '{no_checkpoint}' holds no readable checkpoint "
                  'yet', 'train first', '--checkpoint_path'),
    evaluate_case('evaluate-damaged-run-json', ['--train_dir={damaged}'],
                  '{damaged}/run.json cannot be read'),
    case('evaluate-stray-argument', EVALUATE, ['foo'],
         'unexpected arguments foo', 'every option is a --flag'),
    # export.
    export_case('export-format', ['--format=pt'], '--format=pt',
                '<saved_model|tflite|onnx|openvino>'),
    export_case('export-format-precision', ['--format=tflite',
                                            '--precision=bf16'],
                'format tflite does not support precision bf16',
                'tflite (litert): fp32, int8'),
    export_case('export-calibration_images-0', ['--calibration_images=0'],
                'calibration_images must be an int >= 1'),
    export_case('export-export_dir-holds-an-export', ['--export_dir={export}'],
                "export_dir '{export}' already exists and is not empty",
                'pass a new folder'),
    export_case('export-train_dir-without-checkpoint',
                ['--train_dir={no_checkpoint}'],
                "train_dir '{no_checkpoint}' holds no readable checkpoint "
                'yet'),
    case('export-stray-argument', EXPORT, ['foo'], 'unexpected arguments foo'),
    case('export-export_dir-missing', EXPORT, ['--train_dir={run}'],
         '--export_dir is required', 'New (or empty) folder'),
    export_case('export-export_dir-parent-missing',
                ['--export_dir={missing}/model'],
                "export_dir '{missing}/model' cannot be made: its parent "
                "folder '{missing}' does not exist", 'mkdir -p {missing}'),
    # time_resnet_v2.py
    case('benchmark-model', BENCHMARK, ['--model=resnet_v2_19'],
         "Unknown model name 'resnet_v2_19'", 'choose one of resnet_v2_18',
         prefix='time_resnet_v2: error: '),
    case('benchmark-image_size-0', BENCHMARK, ['--image_size=0'],
         'image_size=0 is too small for resnet_v2_18', 'image_size >= 32',
         prefix='time_resnet_v2: error: '),
    case('benchmark-mode', BENCHMARK, ['--mode=train'],
         '--mode must be forward, forward_backward or both',
         prefix='time_resnet_v2: error: '),
    case('benchmark-runtime-image_size', BENCHMARK,
         ['--runtime=tf', '--image_size=16'],
         'image_size=16 is too small for resnet_v2_18', 'image_size >= 32',
         prefix='time_resnet_v2: error: '),
    case('benchmark-stray-argument', BENCHMARK, ['foo'],
         'unexpected arguments foo', prefix='time_resnet_v2: error: '),
    # train_digits.py
    case('digits-proof-max_steps-0', DIGITS_PROOF,
         ['--work_dir={new}', '--max_steps=0'],
         'max_steps must be an int >= 1'),
    case('digits-proof-seed-negative', DIGITS_PROOF,
         ['--work_dir={new}', '--seed=-1'],
         'seed must be an int in [0, 2**32 - 1]'),
    case('digits-proof-work_dir-used', DIGITS_PROOF, ['--work_dir={images}'],
         "work_dir '{images}' already exists and is not empty",
         'pass a new folder'),
    case('digits-proof-export_dir-holds-an-export', DIGITS_PROOF,
         ['--work_dir={new}', '--export_dir={export}'],
         "export_dir '{export}' already exists and is not empty"),
    case('digits-proof-stray-argument', DIGITS_PROOF, ['foo'],
         'unexpected arguments foo'),
    # python -m resnet_v2.data.digits
    case('digits-test_fraction-nan', DIGITS,
         ['--out_dir={new}', '--test_fraction=nan'],
         'test_fraction must be a finite number in (0, 1)'),
    case('digits-stray-argument', DIGITS, ['foo'], 'unexpected arguments foo'),
    # python -m resnet_v2.summary
    case('summary-image_size-0', SUMMARY, ['--image_size=0'],
         'image_size=0 is too small', 'image_size >= 32'),
    case('summary-stray-argument', SUMMARY, ['foo'],
         'unexpected arguments foo'),
]

# Cases whose advice is followed: (case, flag the advice sets, a pattern
# that finds the advised value in the error line).
BATCH = train_case('train-batch-larger-than-the-training-set',
                   ['--batch_size=13'],
                   'batch_size=13 is larger than the 12 training images',
                   'use --batch_size=12 or less')
IMAGE_SIZE = train_case('train-image_size-below-the-stride',
                        ['--image_size=16'],
                        'image_size=16 is too small for resnet_v2_18',
                        'use image_size >= 32')
OTHER_MODEL = train_case('train-train_dir-of-another-model',
                         ['--train_dir={run}', '--model=resnet_v2_34'],
                         "train_dir '{run}' holds a run of model resnet_v2_18",
                         'Pass a new --train_dir', table=True)
FOLLOWED = {
    BATCH.id: (BATCH, r'use (--batch_size=\d+) or less'),
    IMAGE_SIZE.id: (IMAGE_SIZE, r'use (image_size) >= (\d+)'),
    OTHER_MODEL.id: (OTHER_MODEL, r'Pass a (new) (--train_dir)'),
}
ALL_CASES = CASES + [followed for followed, _ in FOLLOWED.values()]

Outcome = collections.namedtuple('Outcome', ['case', 'places', 'returncode',
                                             'stdout', 'stderr', 'before',
                                             'after', 'followed'])


def snapshot(path):
  """``{relative path: (size, mtime_ns)}`` of every entry below ``path``.

  A file gives its own entry under '.'; a path that does not exist gives
  None, so a folder created by the run shows as a change.
  """
  if not os.path.lexists(path):
    return None
  if not os.path.isdir(path):
    status = os.stat(path)
    return {'.': (status.st_size, status.st_mtime_ns)}
  found = {}
  for root, dirs, files in os.walk(path):
    for name in dirs + files:
      full = os.path.join(root, name)
      status = os.stat(full)
      found[os.path.relpath(full, path)] = (
          None if name in dirs else status.st_size, status.st_mtime_ns)
  return found


def command_line(command, arguments, places):
  """The argv a user types, with the prepared paths filled in."""
  return [sys.executable] + command + [a.format(**places) for a in arguments]


def run_command(argv):
  """Run ``argv`` from the repository root in a user's plain environment."""
  environment = {key: value for key, value in os.environ.items()
                 if key != 'TF_CPP_MIN_LOG_LEVEL'}
  environment['PYTHONPATH'] = os.pathsep.join(
      [str(REPO)] + [p for p in [os.environ.get('PYTHONPATH')] if p])
  return subprocess.run(argv, cwd=REPO, env=environment, capture_output=True,
                        text=True, timeout=TIMEOUT, check=False)


def watched_paths(bad_case, places):
  """Every prepared path the case names: they must not change."""
  named = set(re.findall(r'\{(\w+)\}', ' '.join(bad_case.arguments)))
  return {name: places[name] for name in sorted(named)}


def follow_advice(bad_case, places, message):
  """The case's command line changed as its error line advises; None when
  the case has no advice to follow."""
  if bad_case.id not in FOLLOWED:
    return None
  _, pattern = FOLLOWED[bad_case.id]
  found = re.search(pattern, message)
  assert found, 'no advice %r in %r' % (pattern, message)
  if bad_case is BATCH:
    changed = [found.group(1) if a.startswith('--batch_size=') else a
               for a in bad_case.arguments]
  elif bad_case is IMAGE_SIZE:
    changed = [a for a in bad_case.arguments
               if not a.startswith('--image_size=')]
    changed.append('--image_size=%s' % found.group(2))
  else:
    changed = [a for a in bad_case.arguments
               if not a.startswith('--train_dir=')]
    changed.append('--train_dir={followed}')
  places = dict(places, followed=places['new'] + '_followed')
  return run_command(command_line(bad_case.command, changed, places))


def in_process(bad_case):
  """Whether the case runs inside this process (see the module's doc)."""
  return (bad_case.command[0] == '-m' and bad_case.command != DIGITS and
          not bad_case.id.endswith('-stray-argument'))


def run_in_process(command, arguments):
  """Run a package command's ``cli.run`` here, as ``python -m`` would; its
  exit status and output as a CompletedProcess."""
  module = importlib.import_module(command[1])
  argv = [module.__file__] + command[2:] + list(arguments)
  stdout, stderr = io.StringIO(), io.StringIO()
  status = 0
  try:
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
      cli.run(module.main, module.FLAGS, module.__doc__, argv=argv)
  except SystemExit as exit_info:
    status = exit_info.code
  finally:
    module.FLAGS.unparse_flags()
  return subprocess.CompletedProcess(argv, status, stdout.getvalue(),
                                     stderr.getvalue())


def run_case(bad_case, places):
  """Run one case (and its advice, if it has one); return its Outcome."""
  places = dict(places, new=os.path.join(places['new_root'], bad_case.id))
  watched = watched_paths(bad_case, places)
  before = {name: snapshot(path) for name, path in watched.items()}
  if in_process(bad_case):
    finished = run_in_process(bad_case.command,
                              [a.format(**places) for a in bad_case.arguments])
  else:
    finished = run_command(command_line(bad_case.command, bad_case.arguments,
                                        places))
  after = {name: snapshot(path) for name, path in watched.items()}
  followed = None
  if finished.returncode == 2 and bad_case.id in FOLLOWED:
    followed = follow_advice(bad_case, places, finished.stderr)
  return Outcome(bad_case, places, finished.returncode, finished.stdout,
                 finished.stderr, before, after, followed)


@pytest.fixture(scope='module')
def places(images, tmp_path_factory):
  """The folders the cases name: data, a trained run, an export, damaged
  runs, and a root for paths that do not exist yet."""
  root = tmp_path_factory.mktemp('bad_input')
  run = str(root / 'run')
  training.train(small_options(images, run, max_steps=1))
  export = str(root / 'export')
  training.export_saved_model(run, export)
  unreadable = write_grey_classes(str(root / 'unreadable'), [30, 130, 230])
  for name in os.listdir(os.path.join(unreadable, 'class_2')):
    (pathlib.Path(unreadable) / 'class_2' / name).write_bytes(b'not a png')
  damaged = str(root / 'damaged')
  shutil.copytree(run, damaged)
  (pathlib.Path(damaged) / 'run.json').write_text('{"model": "resnet_v2_18"')
  no_checkpoint = root / 'no_checkpoint'
  no_checkpoint.mkdir()
  shutil.copy(os.path.join(run, 'run.json'), no_checkpoint)
  (root / 'no_record').mkdir()
  (root / 'empty').mkdir()
  (root / 'file').write_text('not a folder')
  (root / 'new').mkdir()
  flag_files = {
      'flags_unknown': '# a comment, then a blank line\n\n--bogus=1\n',
      'flags_malformed': '--max_steps=1\nbatch_size 4\n',
      'flags_spaced': '--batch_size 4\n',
      'flags_bad_value': '--batch_size=four\n',
      'flags_other_command': '--subset=all\n',
      'flags_nested': '--flagfile=%s.flags\n' % (root / 'missing'),
  }
  for name, text in flag_files.items():
    (root / (name + '.txt')).write_text(text)
  return {
      **{name: str(root / (name + '.txt')) for name in flag_files},
      'images': images, 'run': run, 'export': export,
      'unreadable': unreadable, 'damaged': damaged,
      'no_checkpoint': str(no_checkpoint), 'no_record': str(root / 'no_record'),
      'empty': str(root / 'empty'), 'file': str(root / 'file'),
      'missing': str(root / 'missing'), 'new_root': str(root / 'new'),
      'one_class': write_grey_classes(str(root / 'one_class'), [30]),
      'two_classes': write_grey_classes(str(root / 'two_classes'), [30, 230]),
  }


@pytest.fixture(scope='module')
def outcomes(places):
  """Every case's Outcome by id: processes ``PARALLEL_RUNS`` at a time in
  the background while the in-process cases run one by one."""
  with concurrent.futures.ThreadPoolExecutor(PARALLEL_RUNS) as pool:
    futures = {bad_case.id: pool.submit(run_case, bad_case, places)
               for bad_case in ALL_CASES if not in_process(bad_case)}
    found = {bad_case.id: run_case(bad_case, places)
             for bad_case in ALL_CASES if in_process(bad_case)}
    found.update((case_id, future.result())
                 for case_id, future in futures.items())
  return found


def check_refused(outcome):
  """Exit 2, one clean error message with the case's phrases, and nothing
  changed."""
  bad_case, stderr = outcome.case, outcome.stderr
  assert outcome.returncode == 2, stderr
  assert 'Traceback' not in stderr + outcome.stdout
  assert stderr.startswith(bad_case.prefix), stderr
  lines = stderr.splitlines()
  assert stderr.endswith('\n') and (len(lines) == 1 or bad_case.table), stderr
  if bad_case.table:
    assert lines[-1].startswith('Pass a new --train_dir'), stderr
  for phrase in bad_case.expected:
    assert phrase.format(**outcome.places) in stderr, (phrase, stderr)
  assert outcome.after == outcome.before
  assert outcome.stdout == ''


@pytest.mark.parametrize('case_id', [bad_case.id for bad_case in CASES])
def test_bad_input_is_one_error_line_and_changes_nothing(outcomes, case_id):
  check_refused(outcomes[case_id])


def check_followed(outcome):
  """The advised command line trains to its last step."""
  followed = outcome.followed
  assert followed is not None and followed.returncode == 0, (
      followed and followed.stderr)
  assert 'step 1/1' in followed.stdout
  assert 'Traceback' not in followed.stderr


def test_a_batch_larger_than_the_training_set_suggests_one_that_trains(
    outcomes):
  outcome = outcomes[BATCH.id]
  check_refused(outcome)
  check_followed(outcome)


def test_an_image_below_the_output_stride_suggests_a_size_that_trains(
    outcomes):
  outcome = outcomes[IMAGE_SIZE.id]
  check_refused(outcome)
  check_followed(outcome)


def test_a_train_dir_of_another_model_is_refused_with_a_table_and_left_alone(
    outcomes):
  outcome = outcomes[OTHER_MODEL.id]
  check_refused(outcome)
  assert ['model', 'resnet_v2_18', 'resnet_v2_34'] in [
      line.split() for line in outcome.stderr.splitlines()]
  check_followed(outcome)

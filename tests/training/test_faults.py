"""Fault injection: kill -9 anywhere, two runs at once, a read-only folder,
a full disk.

Every fault hits a real ``python -m resnet_v2.train`` process (or the same
command with its save path wrapped by ``fault_runner.py``). Oracles: the
losses and final weights of one uninterrupted run, the files on disk before
and after, the exit status and the lines on stderr.
"""

import collections
import concurrent.futures
import os
import random
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np
import pytest
import tensorflow as tf

from resnet_v2 import training
from resnet_v2.training import run_dir

from image_sets import snapshot
from image_sets import MODEL
from image_sets import small_options

STEPS = 8
SAVE_EVERY = 2
TIMEOUT = 120
KILLS = 2
CHAIN_TIMEOUT = 6 * TIMEOUT
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
FAULT_RUNNER = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                            'fault_runner.py')

Piece = collections.namedtuple(
    'Piece', ['pid', 'returncode', 'stdout', 'stderr', 'losses',
              'resumed_from'])


@pytest.fixture(scope='module')
def reference(images, tmp_path_factory):
  """``(final checkpoint, {step: loss})`` of a run nothing interrupts."""
  train_dir = str(tmp_path_factory.mktemp('reference'))
  result = training.train(small_options(images, train_dir, max_steps=STEPS,
                                        save_every=SAVE_EVERY))
  assert [step for step, _, _ in result.history] == list(
      range(1, STEPS + 1))
  return result.checkpoint, {step: loss for step, loss, _ in result.history}


def _flags(images, train_dir, max_steps=STEPS):
  """The train command's flags for the small run of ``image_sets``."""
  return ['--data_dir=%s' % images, '--train_dir=%s' % train_dir,
          '--model=%s' % MODEL, '--image_size=32', '--batch_size=4',
          '--max_steps=%d' % max_steps, '--learning_rate=0.01',
          '--log_every=1', '--save_every=%d' % SAVE_EVERY, '--seed=7']


def _command(images, train_dir, max_steps=STEPS):
  """``python -m resnet_v2.train`` with the small run's flags."""
  return ([sys.executable, '-m', 'resnet_v2.train'] +
          _flags(images, train_dir, max_steps))


def _fault_command(images, train_dir, fault_save, moment):
  """The train command that SIGKILLs itself in save ``fault_save``."""
  return ([sys.executable, FAULT_RUNNER, '--fault_save=%d' % fault_save,
           '--fault_moment=%s' % moment] + _flags(images, train_dir))


def _environment():
  """This tree first on the path; output unbuffered; TF's chatter quiet."""
  return dict(os.environ, PYTHONPATH=os.pathsep.join(
      [ROOT] + [p for p in [os.environ.get('PYTHONPATH')] if p]),
              PYTHONUNBUFFERED='1', TF_CPP_MIN_LOG_LEVEL='2')


def _start(command, preexec_fn=None):
  """Start ``command`` with stdout piped and stderr in a temporary file."""
  stderr = tempfile.TemporaryFile(mode='w+')
  process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=stderr,
                             text=True, cwd=ROOT, env=_environment(),
                             preexec_fn=preexec_fn)
  process.stderr_file = stderr
  return process


def _finish(process, kill_after_step=None, delay=0.0, signum=signal.SIGKILL):
  """Read ``process`` to its end (sending it ``signum`` ``delay`` s after it
  prints step ``kill_after_step``, if given) and describe what it printed;
  ``process.signalled`` is then the time the signal was sent."""
  timer = threading.Timer(TIMEOUT, process.kill)
  timer.start()
  lines = []
  try:
    for line in process.stdout:
      lines.append(line)
      if kill_after_step is not None and line.startswith(
          'step %d/' % kill_after_step):
        time.sleep(delay)
        process.signalled = time.monotonic()
        process.send_signal(signum)
    process.wait(timeout=TIMEOUT)
  finally:
    timer.cancel()
    if process.poll() is None:
      process.kill()
      process.wait()
  process.stderr_file.seek(0)
  stderr = process.stderr_file.read()
  process.stderr_file.close()
  stdout = ''.join(lines)
  losses = {int(step): float(loss) for step, loss in re.findall(
      r'^step (\d+)/\d+\s+loss ([0-9.]+)', stdout, re.MULTILINE)}
  resumed = re.search(r'^training .*; resuming from (\S+) at step \d+\.$',
                      stdout, re.MULTILINE)
  return Piece(process.pid, process.returncode, stdout, stderr, losses,
               resumed.group(1) if resumed else None)


def _run(command, **kill):
  """Run ``command`` to its end (or its kill, see ``_finish``)."""
  return _finish(_start(command), **kill)


def _errors(stderr):
  """The ``error:`` lines of a command's stderr."""
  return [line for line in stderr.splitlines() if line.startswith('error:')]


def _saved_step(train_dir):
  """The step of the checkpoint a resume would start from (0 if none)."""
  latest = run_dir.latest_checkpoint(train_dir)
  return int(tf.train.load_variable(latest, 'global_step')) if latest else 0


def _prefix(train_dir, step):
  """The prefix of the checkpoint of ``step`` in ``train_dir``."""
  return os.path.join(train_dir, 'model.ckpt-%d' % step)


def _assert_resumed(piece, train_dir, saved, last):
  """``piece`` resumed from step ``saved`` and printed steps up to ``last``."""
  assert piece.resumed_from == (_prefix(train_dir, saved) if saved else None)
  assert sorted(piece.losses) == list(range(saved + 1, last + 1)), piece.stdout


def _assert_reference_losses(piece, reference):
  """Every loss ``piece`` printed is the uninterrupted run's at that step."""
  _, losses = reference
  steps = sorted(piece.losses)
  np.testing.assert_allclose([piece.losses[s] for s in steps],
                             [losses[s] for s in steps], atol=1e-4)


def _assert_reference_weights(checkpoint, reference):
  """Every variable of ``checkpoint`` is close to the uninterrupted run's."""
  expected = tf.train.load_checkpoint(reference[0])
  actual = tf.train.load_checkpoint(checkpoint)
  names = sorted(expected.get_variable_to_shape_map())
  assert sorted(actual.get_variable_to_shape_map()) == names
  for name in names:
    np.testing.assert_allclose(actual.get_tensor(name),
                               expected.get_tensor(name), rtol=1e-4,
                               atol=1e-5, err_msg=name)


def _lock_holder(train_dir):
  """The pid the train_dir's lock file names, or None without a lock."""
  path = os.path.join(train_dir, run_dir.LOCK_FILE)
  if not os.path.exists(path):
    return None
  with open(path) as f:
    return int(re.search(r'"pid": (\d+)', f.read()).group(1))


def test_two_runs_started_together_one_trains_the_other_names_it(
    images, reference, tmp_path):
  train_dir = str(tmp_path / 'run')
  command = _command(images, train_dir)
  processes = [_start(command), _start(command)]
  pieces = [None, None]
  readers = [threading.Thread(target=lambda i=i: pieces.__setitem__(
      i, _finish(processes[i]))) for i in range(2)]
  for reader in readers:
    reader.start()
  for reader in readers:
    reader.join(TIMEOUT + 10)
  assert sorted(piece.returncode for piece in pieces) == [0, 2], pieces
  winner = next(piece for piece in pieces if piece.returncode == 0)
  loser = next(piece for piece in pieces if piece.returncode == 2)
  assert _errors(loser.stderr) == [
      'error: train_dir %r is in use by another training run (process %d, '
      'started %s): wait for it to finish, stop it, or pass another '
      '--train_dir.' % (train_dir, winner.pid, re.search(
          r'started ([^)]*)\)', loser.stderr).group(1))]
  assert 'Traceback' not in loser.stderr and not loser.losses
  _assert_resumed(winner, train_dir, 0, STEPS)
  _assert_reference_losses(winner, reference)
  assert _lock_holder(train_dir) is None
  _assert_reference_weights(run_dir.latest_checkpoint(train_dir), reference)


def test_sigterm_saves_the_step_says_preempted_and_the_rerun_ends_as_one_run(
    images, reference, tmp_path):
  train_dir = str(tmp_path / 'run')
  process = _start(_command(images, train_dir))
  piece = _finish(process, kill_after_step=3, signum=signal.SIGTERM)
  exited = time.monotonic() - process.signalled
  # Stopped after the step that was running when the signal came: 3, or 4
  # if the signal landed between steps.
  saved = _saved_step(train_dir)
  assert piece.returncode == 128 + signal.SIGTERM, piece.stderr
  assert saved in (3, 4) and sorted(piece.losses) == list(range(1, saved + 1))
  lines = [line for line in piece.stdout.splitlines()
           if line.startswith('preempted')]
  # Either it saved the step now, or the signal came just after the
  # periodic save of that step, which it then names instead of saving twice.
  assert len(lines) == 1 and re.fullmatch(
      r'preempted \(SIGTERM\): (saved step %d in [0-9.]+ s as %s|step %d '
      r'was saved already); run the same command again to resume from it\.'
      % (saved, re.escape(_prefix(train_dir, saved)), saved), lines[0]), lines
  assert 'Traceback' not in piece.stderr and not _errors(piece.stderr)
  # Bounded: the step that was running, the save and the exit.
  assert exited < 30, exited
  assert _lock_holder(train_dir) is None
  # The advice, followed: the same command resumes and ends as one run.
  resumed = _run(_command(images, train_dir))
  assert resumed.returncode == 0, resumed.stderr
  _assert_resumed(resumed, train_dir, saved, STEPS)
  for piece_run in (piece, resumed):
    _assert_reference_losses(piece_run, reference)
  _assert_reference_weights(_prefix(train_dir, STEPS), reference)


def _file_size_limit(limit):
  """A ``preexec_fn``: files may grow to ``limit`` bytes; a larger write
  fails with EFBIG (SIGXFSZ ignored) instead of killing the process."""
  def apply():
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
  return apply


def _copy_until(reference, step, train_dir):
  """A copy of the reference run as it was when it had saved ``step``."""
  shutil.copytree(os.path.dirname(reference[0]), train_dir, ignore=(
      lambda _, names: [name for name in names if name.startswith(
          'model.ckpt-') and int(name.split('-')[1].split('.')[0]) > step]))
  tf.compat.v1.train.update_checkpoint_state(
      train_dir, 'model.ckpt-%d' % step, all_model_checkpoint_paths=[
          'model.ckpt-%d' % s for s in range(SAVE_EVERY, step + 1,
                                             SAVE_EVERY)])
  return train_dir


def test_a_full_disk_stops_the_run_in_one_line_and_keeps_the_checkpoints(
    images, reference, tmp_path):
  train_dir = _copy_until(reference, 4, str(tmp_path / 'run'))
  before = snapshot(train_dir)
  kept = tf.train.load_checkpoint(_prefix(train_dir, 4))
  # RLIMIT_FSIZE makes every write past 1 MB fail as a full disk does: the
  # run record and the event file fit, a checkpoint (89 MB) does not.
  piece = _finish(_start(_command(images, train_dir),
                         preexec_fn=_file_size_limit(1 << 20)))
  assert piece.returncode == 2, piece.stderr
  _assert_resumed(piece, train_dir, 4, 6)
  _assert_reference_losses(piece, reference)
  errors = _errors(piece.stderr)
  assert len(errors) == 1 and 'Traceback' not in piece.stderr
  assert errors[0].startswith('error: could not write the checkpoint of step '
                              '6 to %s (' % train_dir)
  assert 'File too large' in errors[0] and '{{' not in errors[0]
  assert errors[0].endswith('it resumes from %s.' % _prefix(train_dir, 4))
  after = snapshot(train_dir)
  for name in before:
    if name.startswith('model.ckpt') or name == 'checkpoint':
      assert after[name] == before[name], name
  assert not any(name.startswith('model.ckpt-6') for name in after)
  assert run_dir.latest_checkpoint(train_dir) == _prefix(train_dir, 4)
  for name, _ in tf.train.list_variables(_prefix(train_dir, 4)):
    np.testing.assert_array_equal(
        tf.train.load_variable(_prefix(train_dir, 4), name),
        kept.get_tensor(name))
  # With space again, the same run finishes as if nothing had happened.
  resumed = training.train(small_options(images, train_dir, max_steps=STEPS,
                                         save_every=SAVE_EVERY))
  assert [step for step, _, _ in resumed.history] == [5, 6, 7, 8]
  np.testing.assert_allclose([loss for _, loss, _ in resumed.history],
                             [reference[1][step] for step in (5, 6, 7, 8)],
                             rtol=1e-4)


def _make_read_only(folder):
  """Make ``folder`` and its files unwritable; False if this user can
  write anyway (root ignores modes; the immutable attribute binds it)."""
  for root, _, names in os.walk(folder):
    for name in names:
      os.chmod(os.path.join(root, name), 0o444)
  os.chmod(folder, 0o555)
  if not os.access(folder, os.W_OK):
    return True
  paths = [os.path.join(folder, name) for name in os.listdir(folder)]
  if shutil.which('chattr') is None:
    return False
  subprocess.run(['chattr', '+i'] + paths + [folder], capture_output=True,
                 timeout=30, check=False)
  return not os.access(folder, os.W_OK)


def _make_writable(folder):
  """Undo ``_make_read_only``."""
  if shutil.which('chattr') is not None:
    paths = [os.path.join(folder, name) for name in os.listdir(folder)]
    subprocess.run(['chattr', '-i', folder] + paths, capture_output=True,
                   timeout=30, check=False)
  os.chmod(folder, 0o755)
  for name in os.listdir(folder):
    os.chmod(os.path.join(folder, name), 0o644)


def test_a_read_only_train_dir_is_one_line_and_nothing_changes(
    images, reference, tmp_path):
  empty = str(tmp_path / 'empty')
  os.makedirs(empty)
  finished = str(tmp_path / 'finished')
  shutil.copytree(os.path.dirname(reference[0]), finished)
  try:
    if not (_make_read_only(empty) and _make_read_only(finished)):
      pytest.skip('this user can write to a folder of mode 0o555, and the '
                  'immutable attribute is not available here')
    before = {folder: snapshot(folder) for folder in (empty, finished)}
    new_run = os.path.join(empty, 'run')
    processes = [_start(_command(images, new_run)),
                 _start(_command(images, finished, max_steps=10))]
    pieces = [_finish(process) for process in processes]
    for piece, train_dir, existing in ((pieces[0], new_run, empty),
                                       (pieces[1], finished, finished)):
      assert piece.returncode == 2, piece.stderr
      assert _errors(piece.stderr) == [
          'error: train_dir %r cannot be written (%r is not writable): pass '
          'a folder you can write to.' % (train_dir, existing)]
      assert 'Traceback' not in piece.stderr and not piece.losses
    assert {folder: snapshot(folder) for folder in (empty, finished)} == before
  finally:
    _make_writable(empty)
    _make_writable(finished)


def _random_kill_chain(images, train_dir):
  """Kill -9 the train command at seeded random moments (some land inside
  a save), resuming each time, until a run finishes.

  Returns:
    ``(train_dir, [(piece, step it resumed from, lock holder after it)])``.
  """
  command = _command(images, train_dir)
  rng = random.Random(1234)
  record = []
  for _ in range(KILLS + 3):
    saved = _saved_step(train_dir)
    kill = ({} if len(record) >= KILLS else
            {'kill_after_step': rng.randint(saved + 1, STEPS - 2),
             'delay': rng.uniform(0.0, 0.3)})
    piece = _run(command, **kill)
    record.append((piece, saved, _lock_holder(train_dir)))
    if piece.returncode != -signal.SIGKILL:
      break
  return train_dir, record


Observation = collections.namedtuple(
    'Observation', ['piece', 'before', 'after', 'latest', 'state_newest'])

# (save of the process, moment) of each fault_runner run; None: the command.
SAVE_FAULTS = ((2, 'data_partial'), (2, 'before_state'), (1, 'state_ahead'),
               None)


def _save_fault_chain(images, train_dir):
  """Run ``SAVE_FAULTS`` one after the other on ``train_dir``.

  Returns:
    ``(train_dir, observations)``: per run, what it printed, the files
    before and after, the checkpoint a resume would take and the one the
    state file names.
  """
  record = []
  for fault in SAVE_FAULTS:
    before = snapshot(train_dir) if os.path.isdir(train_dir) else {}
    piece = _run(_fault_command(images, train_dir, *fault) if fault
                 else _command(images, train_dir))
    state = tf.train.get_checkpoint_state(train_dir)
    record.append(Observation(
        piece, before, snapshot(train_dir),
        run_dir.latest_checkpoint(train_dir),
        os.path.basename(state.model_checkpoint_path) if state else None))
  return train_dir, record


CHAINS = {
    'test_kill_9_at_random_points_then_resume_ends_as_the_uninterrupted_run':
        _random_kill_chain,
    'test_kill_9_inside_a_save_resumes_from_the_last_complete_checkpoint':
        _save_fault_chain,
}


@pytest.fixture(scope='module', autouse=True)
def chains(request, images, tmp_path_factory):
  """The kill-and-resume chains of the selected tests, started at once in
  the background: each is a string of processes, so they overlap with the
  other tests on a machine of two cores. ``{test name: Future}``."""
  selected = {item.name for item in request.session.items}
  with concurrent.futures.ThreadPoolExecutor(len(CHAINS)) as executor:
    yield {name: executor.submit(chain, images,
                                 str(tmp_path_factory.mktemp('chain')))
           for name, chain in CHAINS.items() if name in selected}


def test_kill_9_at_random_points_then_resume_ends_as_the_uninterrupted_run(
    chains, reference, request):
  train_dir, record = chains[request.node.name].result(timeout=CHAIN_TIMEOUT)
  codes = [piece.returncode for piece, _, _ in record]
  assert codes[-1] == 0, record[-1][0].stderr
  assert set(codes[:-1]) == {-signal.SIGKILL}
  for piece, saved, holder in record:
    _assert_resumed(piece, train_dir, saved,
                    STEPS if piece.returncode == 0 else max(piece.losses))
    _assert_reference_losses(piece, reference)
    # A killed run's lock stays behind, names it, and the next run takes
    # it over; the run that finishes removes its own.
    assert holder == (piece.pid if piece.returncode else None)
  assert 'cannot be read' not in record[-1][0].stderr
  assert run_dir.latest_checkpoint(train_dir) == _prefix(train_dir, STEPS)
  _assert_reference_weights(_prefix(train_dir, STEPS), reference)


def test_kill_9_inside_a_save_resumes_from_the_last_complete_checkpoint(
    chains, reference, request):
  train_dir, record = chains[request.node.name].result(timeout=CHAIN_TIMEOUT)
  data = '.data-00000-of-00001'
  assert [o.piece.returncode for o in record] == [-signal.SIGKILL] * 3 + [0], (
      record[-1].piece.stderr)
  for observation, (saved, last) in zip(record, ((0, 4), (2, 6), (4, 6),
                                                 (4, STEPS))):
    _assert_resumed(observation.piece, train_dir, saved, last)
    _assert_reference_losses(observation.piece, reference)
  partial, unnamed, ahead, finished = record
  # Killed while the data of step 4 was written: step 2 stays the newest.
  assert partial.latest == _prefix(train_dir, 2)
  assert 'model.ckpt-4' + data in partial.after
  assert partial.after['model.ckpt-4' + data][0] < partial.after[
      'model.ckpt-2' + data][0]
  assert 'model.ckpt-4.index' not in partial.after
  # Killed after step 6 was written in full, before the state file named it.
  assert 'cannot be read' not in unnamed.piece.stderr
  assert 'model.ckpt-6.index' in unnamed.after
  assert unnamed.latest == _prefix(train_dir, 4)
  # Killed once the state file named step 6, whose data is half written.
  assert ahead.state_newest == 'model.ckpt-6'
  assert ahead.latest == _prefix(train_dir, 4)
  # The command names the damaged checkpoint, resumes from the one before
  # it, deletes nothing and ends as the uninterrupted run.
  assert ('checkpoint %s cannot be read' % _prefix(train_dir, 6)
          in finished.piece.stderr)
  assert set(finished.before) - {run_dir.LOCK_FILE} <= set(finished.after)
  assert finished.latest == _prefix(train_dir, STEPS)
  _assert_reference_weights(_prefix(train_dir, STEPS), reference)


def test_a_run_whose_folder_moved_on_while_it_started_stops_in_one_line(
    images, reference, tmp_path, monkeypatch):
  train_dir = str(tmp_path / 'run')
  real_lock = run_dir.lock

  def lock_after_another_run_finished(folder):
    # Another run took the folder and finished between this run's reading
    # of its resume point (none) and its taking of the lock.
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(os.path.dirname(reference[0]), folder)
    return real_lock(folder)

  monkeypatch.setattr(run_dir, 'lock', lock_after_another_run_finished)
  with pytest.raises(ValueError, match='moved on to .*model.ckpt-%d while '
                     'this run was starting.*run the same command again'
                     % STEPS):
    training.train(small_options(images, train_dir, max_steps=STEPS,
                                 save_every=SAVE_EVERY))
  assert snapshot(train_dir) == snapshot(os.path.dirname(reference[0]))

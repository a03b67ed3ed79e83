"""Faults during export and evaluate: kills, a full disk, two exports at
once, a parent folder that does not exist, and the converters' chatter.

Kills are real signals to real ``python -m resnet_v2.export`` and
``resnet_v2.evaluate`` processes; a full disk is RLIMIT_FSIZE, under which
every write past the limit fails as on a full disk (EFBIG, with SIGXFSZ
ignored), in a command process and, for each format, in this process.
Oracles: the files on disk before and after, the exit status, the lines
on stdout and stderr, and a rerun that works.
"""

import contextlib
import fcntl
import io
import logging
import os
import re
import resource
import signal
import subprocess
import sys
import tempfile
import time

import pytest

from resnet_v2 import deploy
from resnet_v2.deploy import accuracy
from resnet_v2.deploy import staging

from deploy_runs import train_tiny

TIMEOUT = 300
LIMIT = 1 << 20  # bytes: model.json fits, no model file of the tiny net does
CALIBRATION_IMAGES = 4


@pytest.fixture(scope='module')
def run(tmp_path_factory):
  """``(data_dir, train_dir)`` of a tiny trained run."""
  return train_tiny(tmp_path_factory)


def _snapshot(folder):
  """``{path: (size, mtime)}`` of every file and folder below ``folder``."""
  found = {}
  for root, dirs, names in os.walk(folder):
    for name in dirs + names:
      path = os.path.join(root, name)
      found[os.path.relpath(path, folder)] = (
          os.path.getsize(path) if name in names else None,
          os.stat(path).st_mtime_ns)
  return found


def _start_export(train_dir, export_dir, *flags, preexec_fn=None):
  """Start ``python -m resnet_v2.export`` of ``train_dir`` into
  ``export_dir``, its output piped."""
  return subprocess.Popen(
      [sys.executable, '-m', 'resnet_v2.export', '--train_dir=' + train_dir,
       '--export_dir=%s' % export_dir] + list(flags),
      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
      preexec_fn=preexec_fn)


def _is_held(folder):
  """Whether an export holds the partial folder ``folder`` right now."""
  try:
    descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
  except OSError:
    return False
  try:
    fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
  except BlockingIOError:
    return True
  finally:
    os.close(descriptor)
  return False


def _wait_for(condition, process, what):
  """Poll ``condition()`` until it holds; fail if ``process`` ends first."""
  deadline = time.monotonic() + TIMEOUT
  while not condition():
    assert process.poll() is None, 'the process ended before %s' % what
    assert time.monotonic() < deadline, 'timed out waiting for %s' % what
    time.sleep(0.01)


def _end(process):
  """Wait for ``process`` (killing it after TIMEOUT); its stdout, stderr."""
  try:
    return process.communicate(timeout=TIMEOUT)
  finally:
    if process.poll() is None:
      process.kill()
      process.wait()


@contextlib.contextmanager
def _file_size_limit(limit):
  """Let files of this process grow to ``limit`` bytes while inside."""
  soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
  handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
  resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))
  try:
    yield
  finally:
    resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
    signal.signal(signal.SIGXFSZ, handler)


def _limited_child():
  """A ``preexec_fn``: the command's files may grow to ``LIMIT`` bytes."""
  signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
  resource.setrlimit(resource.RLIMIT_FSIZE, (LIMIT, LIMIT))


def _full_disk_message(export_dir, needed_mb, reason='File too large'):
  """A pattern of the refusal of a write that hit ``LIMIT``."""
  return re.escape('could not write the export to %r (' % export_dir) + (
      reason + re.escape('): it needs about %d MB in %r, which has '
                         % (needed_mb, os.path.dirname(export_dir))) +
      r'\d+ MB free \(a quota or a file-size limit can also stop it\): free '
      r'some space or pass an --export_dir on another disk; nothing was '
      r'kept\.$')


# resnet_v2_18 with 3 classes has 11.2 million parameters; onnx int8 also
# writes its float model and a prepared copy before quantizing. OpenVINO
# reports any failed write as an iostream error. The SavedModel is the
# command's case below.
@pytest.mark.parametrize('format_name,precision,needed_mb,reason', [
    ('tflite', 'int8', 11, 'File too large'),
    ('onnx', 'int8', 101, 'File too large'),
    ('openvino', 'fp32', 45, 'OpenVINO could not write .*/model.xml '
     r'\(basic_ios::clear: iostream error\)')])
def test_a_full_disk_is_one_line_with_the_space_needed_and_nothing_kept(
    run, tmp_path, capfd, format_name, precision, needed_mb, reason):
  data_dir, train_dir = run
  (tmp_path / 'keep.txt').write_text('mine')
  before = _snapshot(tmp_path), _snapshot(train_dir)
  export_dir = str(tmp_path / 'model')
  with _file_size_limit(LIMIT), pytest.raises(ValueError) as error:
    deploy.export_model(train_dir, export_dir, format_name, precision,
                        data_dir=data_dir,
                        calibration_images=CALIBRATION_IMAGES)
  assert re.match(_full_disk_message(export_dir, needed_mb, reason),
                  str(error.value)), str(error.value)
  assert capfd.readouterr() == ('', '')
  assert (_snapshot(tmp_path), _snapshot(train_dir)) == before


def test_a_full_disk_in_the_export_command_is_one_line_and_status_2(
    run, tmp_path):
  _, train_dir = run
  export_dir = str(tmp_path / 'model')
  process = _start_export(train_dir, export_dir, preexec_fn=_limited_child)
  stdout, stderr = _end(process)
  assert (process.returncode, stdout) == (2, '')
  lines = stderr.splitlines()
  assert len(lines) == 1, stderr
  assert re.match('error: ' + _full_disk_message(export_dir, 45), lines[0])
  assert os.listdir(tmp_path) == []


def test_two_exports_to_one_folder_one_wins_the_other_is_one_line(
    run, tmp_path):
  _, train_dir = run
  export_dir = str(tmp_path / 'model')
  partial = staging.partial_dir(export_dir)
  first = _start_export(train_dir, export_dir)
  try:
    _wait_for(lambda: _is_held(partial), first, 'the first export started')
    with pytest.raises(ValueError) as error:
      deploy.export_model(train_dir, export_dir)
  finally:
    stdout, stderr = _end(first)
  assert str(error.value) == (
      'export_dir %r is being written by another export right now (it holds '
      '%r): wait for it to finish, or pass another --export_dir.'
      % (export_dir, partial))
  assert first.returncode == 0, stderr
  assert stdout.startswith('exported ') and stderr == ''
  assert os.listdir(tmp_path) == ['model']
  assert deploy.load(export_dir).manifest['files']


def test_an_export_sigtermed_while_writing_leaves_no_export_and_a_rerun_works(
    run, tmp_path):
  _, train_dir = run
  export_dir = str(tmp_path / 'model')
  partial = staging.partial_dir(export_dir)
  process = _start_export(train_dir, export_dir)
  try:
    _wait_for(lambda: os.path.isdir(partial) and os.listdir(partial),
              process, 'the export wrote its first file')
    process.send_signal(signal.SIGTERM)
  finally:
    _end(process)
  assert process.returncode != 0
  assert not os.path.exists(export_dir)
  assert set(os.listdir(tmp_path)) <= {os.path.basename(partial)}
  deploy.export_model(train_dir, export_dir)
  assert os.listdir(tmp_path) == ['model']
  assert deploy.load(export_dir).manifest['files']


def _reads_below(pid, folder):
  """Whether process ``pid`` has a file below ``folder`` open."""
  fds = '/proc/%d/fd' % pid
  try:
    targets = [os.readlink(os.path.join(fds, fd)) for fd in os.listdir(fds)]
  except OSError:
    return False
  return any(target.startswith(folder + os.sep) for target in targets)


@contextlib.contextmanager
def _printed():
  """Collect what this process prints inside, from C++ or Python, and the
  log records that reach the root logger: a StringIO filled on exit."""
  collected = io.StringIO()
  handler = logging.StreamHandler(collected)
  sys.stdout.flush()
  sys.stderr.flush()
  saved = os.dup(1), os.dup(2)
  with tempfile.TemporaryFile(mode='w+') as file:
    os.dup2(file.fileno(), 1)
    os.dup2(file.fileno(), 2)
    logging.getLogger().addHandler(handler)
    try:
      with contextlib.redirect_stdout(file), contextlib.redirect_stderr(file):
        yield collected
    finally:
      logging.getLogger().removeHandler(handler)
      file.flush()
      os.dup2(saved[0], 1)
      os.dup2(saved[1], 2)
      for descriptor in saved:
        os.close(descriptor)
      file.seek(0)
      collected.write(file.read())


@pytest.fixture(scope='module')
def int8_exports(run, tmp_path_factory):
  """``{format: (export_dir, what the export printed)}`` for ONNX Runtime
  and LiteRT int8, whose converters talk the most."""
  data_dir, train_dir = run
  exports = {}
  for format_name in ('onnx', 'tflite'):
    export_dir = str(tmp_path_factory.mktemp(format_name) / 'model')
    with _printed() as printed:
      deploy.export_model(train_dir, export_dir, format_name, 'int8',
                          data_dir=data_dir,
                          calibration_images=CALIBRATION_IMAGES)
    exports[format_name] = export_dir, printed.getvalue()
  return exports


@pytest.mark.parametrize('format_name', ['onnx', 'tflite'])
def test_an_int8_export_prints_nothing_of_its_converters(int8_exports,
                                                         format_name):
  assert int8_exports[format_name][1] == ''


def test_a_killed_evaluate_changes_nothing_and_a_rerun_works(run,
                                                            int8_exports):
  data_dir, train_dir = run
  export_dir = int8_exports['onnx'][0]
  folders = (os.path.dirname(export_dir), data_dir, train_dir)
  before = [_snapshot(folder) for folder in folders]
  process = subprocess.Popen(
      [sys.executable, '-m', 'resnet_v2.evaluate',
       '--model_path=' + export_dir, '--data_dir=' + data_dir],
      stdout=subprocess.PIPE, stderr=subprocess.PIPE)
  try:
    _wait_for(lambda: _reads_below(process.pid, export_dir), process,
              'evaluate read the export')
    process.send_signal(signal.SIGKILL)
  finally:
    _end(process)
  assert process.returncode == -signal.SIGKILL
  assert [_snapshot(folder) for folder in folders] == before
  comparison = accuracy.compare(export_dir, data_dir)
  assert comparison.export.num_images == 18


def test_an_export_dir_in_a_missing_folder_is_one_line_and_creates_nothing(
    run, tmp_path):
  _, train_dir = run
  parent = str(tmp_path / 'models' / 'photos')
  export_dir = os.path.join(parent, 'v1')
  with pytest.raises(ValueError) as error:
    deploy.export_model(train_dir, export_dir)
  assert str(error.value) == (
      'export_dir %r cannot be made: its parent folder %r does not exist. '
      'Create it first (mkdir -p %s) or pass a path in a folder that exists.'
      % (export_dir, parent, parent))
  assert os.listdir(tmp_path) == []
  subprocess.run(['mkdir', '-p', parent], check=True, timeout=30)
  deploy.export_model(train_dir, export_dir)
  assert os.listdir(parent) == ['v1']


def test_a_failing_converter_shows_what_it_printed(run, tmp_path, capfd,
                                                   monkeypatch):
  _, train_dir = run

  def convert(*args):
    del args
    print('converter: unsupported op Foo')
    os.write(2, b'converter C++: cannot lower Foo\n')
    raise RuntimeError('conversion failed')
  monkeypatch.setattr(deploy.engines, 'convert', convert)
  with pytest.raises(RuntimeError, match='conversion failed'):
    deploy.export_model(train_dir, str(tmp_path / 'model'), 'onnx')
  printed = capfd.readouterr()
  assert printed.out == ''
  assert printed.err.splitlines() == ['converter C++: cannot lower Foo',
                                      'converter: unsupported op Foo']
  assert os.listdir(tmp_path) == []

"""Fetching a release from a download site: a local HTTP server stands in.

The server runs in this process on 127.0.0.1 at a free port and counts
the requests; ``$RESNET_V2_WEIGHTS_URL`` points the package at it and
``$RESNET_V2_HOME`` at an empty cache. Nothing reaches the internet.
"""

import http.server
import resource
import signal
import io
import os
import socket
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from resnet_v2 import weights
from resnet_v2.nets import pretrained

import tiny_release

RELEASE = tiny_release.RELEASE
HERE = os.path.dirname(os.path.abspath(__file__))


class _Site(http.server.ThreadingHTTPServer):
  """Serves ``files`` ({name: bytes}); ``mode`` breaks it on purpose."""

  daemon_threads = True

  def __init__(self):
    super().__init__(('127.0.0.1', 0), _Handler)
    self.files, self.mode, self.requests = {}, 'ok', []
    self.stalled = threading.Event()

  @property
  def url(self):
    return 'http://127.0.0.1:%d/models/' % self.server_address[1]


class _Handler(http.server.BaseHTTPRequestHandler):
  """GET of a served file; 'cut' stops halfway, 'missing' answers 404."""

  def do_GET(self):  # noqa: N802 (the name http.server calls)
    site = self.server
    site.requests.append(self.path)
    body = site.files.get(self.path.rsplit('/', 1)[-1])
    if body is None or site.mode == 'missing':
      self.send_error(404)
      return
    self.send_response(200)
    self.send_header('Content-Length', str(len(body)))
    self.end_headers()
    if site.mode in ('cut', 'stall'):
      self.wfile.write(body[:len(body) // 2])
      self.wfile.flush()
      if site.mode == 'stall':
        site.stalled.wait(60)
      return
    self.wfile.write(body)

  def log_message(self, *args):
    """Keep the test output clean."""


@pytest.fixture(scope='module')
def archive(tmp_path_factory):
  """The bytes of a tiny release archive and its reference logits."""
  folder = tmp_path_factory.mktemp('release')
  checkpoint = str(folder / RELEASE.checkpoint)
  logits = tiny_release.write_checkpoint(checkpoint)
  with open(tiny_release.write_archive(str(folder), checkpoint), 'rb') as f:
    return f.read(), logits


@pytest.fixture(scope='module')
def wrong_archive(tmp_path_factory):
  """An archive named as the release holding another net's weights."""
  folder = tmp_path_factory.mktemp('wrong')
  checkpoint = str(folder / RELEASE.checkpoint)
  tiny_release.write_checkpoint(checkpoint, scope='resnet_v2_other')
  with open(tiny_release.write_archive(str(folder), checkpoint), 'rb') as f:
    return f.read()


@pytest.fixture
def site(monkeypatch):
  """The local download site, started for the test and stopped after."""
  server = _Site()
  thread = threading.Thread(target=server.serve_forever, daemon=True)
  thread.start()
  monkeypatch.setenv(pretrained.URL_VARIABLE, server.url)
  yield server
  server.stalled.set()
  server.shutdown()
  server.server_close()


def cache_entries(home):
  """What the cache folder holds, lock files aside."""
  if not home.exists():
    return []
  return sorted(name for name in os.listdir(home)
                if not name.endswith('.lock'))


def test_fetch_downloads_checks_and_caches_once(site, archive, weights_home):
  site.files[RELEASE.archive] = archive[0]
  progress = io.StringIO()
  path = weights.fetch(RELEASE.model, stream=progress)
  assert path == str(weights_home / RELEASE.entry / RELEASE.checkpoint)
  assert sorted(os.listdir(weights_home / RELEASE.entry)) == [
      'eval.graph', 'resnet_v2_tiny.ckpt', 'train.graph']
  assert progress.getvalue() == 'downloaded %s%s (%.1f MB)\n' % (
      site.url, RELEASE.archive, len(archive[0]) / 1e6)
  assert site.requests == ['/models/' + RELEASE.archive]
  assert weights.fetch(RELEASE.model) == path
  assert weights.resolve('imagenet', RELEASE.model) == path
  assert weights.resolve(RELEASE.model, None) == path
  assert len(site.requests) == 1
  assert tf.train.load_checkpoint(path).get_variable_to_shape_map()[
      RELEASE.model + '/logits/weights'] == [1, 1, 256, 1001]


@pytest.mark.parametrize('mode, cause', [
    ('cut', 'the transfer broke off after'),
    ('missing', 'HTTP 404'),
])
def test_a_broken_download_is_one_line_and_caches_nothing(
    site, archive, weights_home, mode, cause):
  site.files[RELEASE.archive] = archive[0]
  site.mode = mode
  with pytest.raises(ValueError) as error:
    weights.fetch(RELEASE.model, stream=io.StringIO())
  message = str(error.value)
  assert '\n' not in message
  assert message.startswith('could not fetch %s from %s%s: %s'
                            % (RELEASE.model, site.url, RELEASE.archive, cause))
  assert 'Nothing was cached' in message
  assert cache_entries(weights_home) == []


def test_an_archive_of_another_net_is_refused_and_not_cached(
    site, wrong_archive, weights_home):
  site.files[RELEASE.archive] = wrong_archive
  with pytest.raises(ValueError, match='its checkpoint does not fit '
                     'resnet_v2_tiny: .* variables missing'):
    weights.fetch(RELEASE.model, stream=io.StringIO())
  assert cache_entries(weights_home) == []


def test_a_truncated_archive_file_is_refused_and_not_cached(
    site, archive, weights_home):
  site.files[RELEASE.archive] = archive[0][:len(archive[0]) // 3]
  with pytest.raises(ValueError, match='it is not a complete .tar.gz archive'):
    weights.fetch(RELEASE.model, stream=io.StringIO())
  assert cache_entries(weights_home) == []


def test_no_server_names_the_place_for_a_download_by_hand_which_then_works(
    archive, weights_home, monkeypatch):
  with socket.socket() as probe:
    probe.bind(('127.0.0.1', 0))
    port = probe.getsockname()[1]
  monkeypatch.setenv(pretrained.URL_VARIABLE, 'http://127.0.0.1:%d/' % port)
  with pytest.raises(ValueError) as error:
    weights.fetch(RELEASE.model, stream=io.StringIO())
  message = str(error.value)
  by_hand = str(weights_home / RELEASE.archive)
  assert 'Connection refused' in message
  assert message.endswith('put it at %s; the same command then uses it.'
                          % by_hand)
  with open(by_hand, 'wb') as f:
    f.write(archive[0])
  path = weights.fetch(RELEASE.model, stream=io.StringIO())
  assert os.path.isfile(path)
  assert os.path.isfile(by_hand)


def test_an_unwritable_cache_is_one_line(monkeypatch, tmp_path):
  blocker = tmp_path / 'file'
  blocker.write_text('')
  monkeypatch.setenv(pretrained.HOME_VARIABLE, str(blocker / 'cache'))
  with pytest.raises(ValueError, match='cannot create the weights cache .* '
                     'set RESNET_V2_HOME to a writable folder'):
    weights.fetch(RELEASE.model)


_FETCHER = '''
import sys
sys.path.insert(0, %r)
import tiny_release
from resnet_v2 import weights
with tiny_release.registered():
  print(weights.fetch(tiny_release.MODEL))
'''


def test_two_processes_fetching_at_once_download_once(site, archive,
                                                      weights_home):
  site.files[RELEASE.archive] = archive[0]
  environment = dict(os.environ, RESNET_V2_HOME=str(weights_home))
  workers = [subprocess.Popen([sys.executable, '-c', _FETCHER % HERE],
                              env=environment, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
  outputs = []
  for worker in workers:
    try:
      outputs.append(worker.communicate(timeout=120))
    finally:
      if worker.poll() is None:
        worker.kill()
  expected = str(weights_home / RELEASE.entry / RELEASE.checkpoint)
  assert [out.strip() for out, _ in outputs] == [expected, expected], outputs
  assert len(site.requests) == 1
  assert cache_entries(weights_home) == [RELEASE.entry]


def test_the_command_lists_the_releases_and_refuses_a_model_without_one():
  listed = subprocess.run(
      [sys.executable, '-m', 'resnet_v2.weights', 'list'], capture_output=True,
      text=True, timeout=60)
  assert listed.returncode == 0
  assert ('resnet_v2_50   resnet_v2_50_2017_04_14.tar.gz   1001     299x299  '
          'inception      75.6   92.8') in listed.stdout
  assert ('resnet_v1_152  resnet_v1_152_2016_08_28.tar.gz  1000     224x224  '
          'vgg            76.8   93.2') in listed.stdout
  refused = subprocess.run(
      [sys.executable, '-m', 'resnet_v2.weights', 'fetch', 'resnet_v2_18'],
      capture_output=True, text=True, timeout=60)
  assert refused.returncode == 2
  assert refused.stderr == (
      "error: no released ImageNet weights for 'resnet_v2_18': TF-Slim "
      'released resnet_v2_50, resnet_v2_101, resnet_v2_152, resnet_v1_50, '
      'resnet_v1_101, resnet_v1_152.\n')


def test_the_command_fetch_offline_is_one_line_and_caches_nothing(tmp_path):
  with socket.socket() as probe:
    probe.bind(('127.0.0.1', 0))
    port = probe.getsockname()[1]
  environment = dict(os.environ, RESNET_V2_HOME=str(tmp_path / 'cache'),
                     RESNET_V2_WEIGHTS_URL='http://127.0.0.1:%d/' % port)
  refused = subprocess.run(
      [sys.executable, '-m', 'resnet_v2.weights', 'fetch', 'resnet_v2_50'],
      capture_output=True, text=True, timeout=60, env=environment)
  assert refused.returncode == 2
  lines = refused.stderr.splitlines()
  assert len(lines) == 1 and lines[0].startswith(
      'error: could not fetch resnet_v2_50 from http://127.0.0.1:%d/'
      'resnet_v2_50_2017_04_14.tar.gz: ' % port)
  assert cache_entries(tmp_path / 'cache') == []


def test_reference_logits_survive_the_fetch(site, archive, weights_home):
  site.files[RELEASE.archive] = archive[0]
  path = weights.fetch(RELEASE.model, stream=io.StringIO())
  with tf.Graph().as_default():
    logits = tiny_release.reference_logits_fn(
        tf.constant(tiny_release.test_images()))
    with tf.Session() as session:
      tf.train.Saver().restore(session, path)
      np.testing.assert_allclose(
          session.run(logits).reshape(-1, 1001), archive[1], rtol=1e-6)


def _start_fetcher(home, preexec_fn=None):
  """A process that fetches the tiny release into ``home``; ValueError's
  message on stderr and status 2 if the fetch fails."""
  script = _FETCHER.replace(
      '  print(weights.fetch(tiny_release.MODEL))',
      '  try:\n    print(weights.fetch(tiny_release.MODEL))\n'
      '  except ValueError as error:\n'
      '    sys.exit("error: " + str(error))')
  return subprocess.Popen(
      [sys.executable, '-c', script % HERE],
      env=dict(os.environ, RESNET_V2_HOME=str(home), TF_CPP_MIN_LOG_LEVEL='3'),
      stdout=subprocess.PIPE,
      stderr=subprocess.PIPE, text=True, preexec_fn=preexec_fn)


def test_a_fetch_killed_mid_download_leaves_no_entry_and_a_rerun_works(
    site, archive, weights_home):
  site.files[RELEASE.archive] = archive[0]
  site.mode = 'stall'
  fetcher = _start_fetcher(weights_home)
  try:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not any(
        name.startswith('.partial-') for name in cache_entries(weights_home)):
      time.sleep(0.2)
    time.sleep(0.5)
    os.kill(fetcher.pid, signal.SIGKILL)
    fetcher.wait(timeout=30)
  finally:
    if fetcher.poll() is None:
      fetcher.kill()
  left = cache_entries(weights_home)
  assert left and all(name.startswith('.partial-') for name in left)
  assert pretrained.cached(RELEASE) is None
  site.mode = 'ok'
  path = weights.fetch(RELEASE.model, stream=io.StringIO())
  assert os.path.isfile(path)
  assert cache_entries(weights_home) == [RELEASE.entry]


def test_a_full_disk_is_one_line_naming_the_folder_and_caches_nothing(
    site, archive, weights_home):
  site.files[RELEASE.archive] = archive[0]
  limit = len(archive[0]) // 3

  def small_disk():
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

  fetcher = _start_fetcher(weights_home, preexec_fn=small_disk)
  try:
    _, error = fetcher.communicate(timeout=120)
  finally:
    if fetcher.poll() is None:
      fetcher.kill()
  assert fetcher.returncode == 1
  assert [line for line in error.splitlines()
          if line.startswith('error:')] == [
      'error: the disk holding %s is full: free about %.0f MB there (the '
      'archive and its unpacked checkpoint), or set RESNET_V2_HOME to a '
      'folder on another disk, then run the same command again.'
      % (weights_home, len(archive[0]) / 1e6 * 2.2)]
  assert cache_entries(weights_home) == []


class _Terminal(io.StringIO):
  """A text stream that says it is a terminal."""

  def isatty(self):
    return True


def test_a_terminal_gets_a_progress_bar(site, archive, weights_home):
  site.files[RELEASE.archive] = archive[0]
  terminal = _Terminal()
  weights.fetch(RELEASE.model, stream=terminal)
  shown = terminal.getvalue()
  megabytes = len(archive[0]) / 1e6
  assert '\r[%s] %5.1f/%.1f MB' % ('#' * 30, megabytes, megabytes) in shown
  assert 'MB/s' in shown
  assert shown.endswith('\ndownloaded %s%s (%.1f MB)\n'
                        % (site.url, RELEASE.archive, megabytes))

"""TF-Slim's released weights on disk: fetched once, checked, found by name.

  path = fetch('resnet_v2_50')       # .../resnet_v2_50_2017_04_14/resnet_v2_50.ckpt
  cache_dir()                        # $RESNET_V2_HOME, else ~/.cache/resnet_v2
  resolve('imagenet', 'resnet_v2_50')      # the same path, fetched if need be
  resolve('runs/photos', 'resnet_v2_50')   # a path: returned as it is

A cache entry is a folder named after the archive, holding what the
archive holds. It appears in one rename, after the download was unpacked
into a hidden temporary folder and its checkpoint was opened and checked
against the net it is for (every variable, by name and shape), so an
entry that exists is complete; a download that fails, is cut short or
holds another model's weights leaves nothing behind. Processes fetching
the same release take turns on a lock file: the second finds the entry
the first made. An archive downloaded by hand and put where the error
message says (``<cache>/<archive name>``) is used instead of the network.
"""

import contextlib
import errno
import fcntl
import http.client
import os
import shutil
import sys
import tarfile
import tempfile
import time
import urllib.error
import urllib.request
from typing import Callable, Iterator, Optional

from resnet_v2.nets import releases

HOME_VARIABLE = 'RESNET_V2_HOME'
URL_VARIABLE = 'RESNET_V2_WEIGHTS_URL'
TIMEOUT_SECONDS = 60
_CHUNK = 1 << 20
_PARTIAL = '.partial-'
# errno values of a write that found no room (RLIMIT_FSIZE gives EFBIG).
_FULL = (errno.ENOSPC, errno.EFBIG, errno.EDQUOT)


def cache_dir() -> str:
  """Where releases are kept: ``$RESNET_V2_HOME``, else the XDG cache."""
  home = os.environ.get(HOME_VARIABLE)
  if home:
    return os.path.abspath(os.path.expanduser(home))
  xdg = os.environ.get('XDG_CACHE_HOME') or os.path.join(
      os.path.expanduser('~'), '.cache')
  return os.path.join(xdg, 'resnet_v2')


def base_url() -> str:
  """Where the archives are downloaded from (``$RESNET_V2_WEIGHTS_URL``)."""
  url = os.environ.get(URL_VARIABLE) or releases.BASE_URL
  return url if url.endswith('/') else url + '/'


def url_of(release: releases.Release) -> str:
  """The download address of ``release``."""
  return base_url() + release.archive


def entry_checkpoint(release: releases.Release) -> str:
  """The checkpoint path of ``release``'s cache entry (it may not exist)."""
  return os.path.join(cache_dir(), release.entry, release.checkpoint)


def cached(release: releases.Release) -> Optional[str]:
  """The cached checkpoint of ``release``, or None if not fetched yet."""
  path = entry_checkpoint(release)
  return path if os.path.isfile(path) else None


@contextlib.contextmanager
def _locked(path: str) -> Iterator[None]:
  """Hold an exclusive ``flock`` on ``path`` (created) while inside."""
  with open(path, 'a') as handle:
    fcntl.flock(handle, fcntl.LOCK_EX)
    try:
      yield
    finally:
      fcntl.flock(handle, fcntl.LOCK_UN)


def _progress_printer(total: Optional[int], stream) -> Callable[[int], None]:
  """A function of the bytes read so far that draws a bar on a terminal."""
  if not stream.isatty():
    return lambda done: None
  started = time.monotonic()

  def show(done):
    megabytes = done / 1e6
    rate = megabytes / max(time.monotonic() - started, 1e-3)
    if total:
      filled = int(30 * done / total)
      stream.write('\r[%-30s] %5.1f/%.1f MB %5.1f MB/s'
                   % ('#' * filled, megabytes, total / 1e6, rate))
    else:
      stream.write('\r%.1f MB %5.1f MB/s' % (megabytes, rate))
    stream.flush()

  return show


def _space_message(folder: str, needed: Optional[int]) -> str:
  """The advice for a disk that filled up while writing into ``folder``."""
  amount = ('about %.0f MB' % (needed / 1e6 * 2.2) if needed
            else 'a few hundred MB')
  return ('the disk holding %s is full: free %s there (the archive and its '
          'unpacked checkpoint), or set %s to a folder on another disk, then '
          'run the same command again.' % (folder, amount, HOME_VARIABLE))


def _download(url: str, target: str, stream) -> int:
  """Write the body at ``url`` to ``target``; the number of bytes.

  Raises:
    ValueError: naming the URL and the cause when the server cannot be
      reached, refuses, or stops before the length it announced.
  """
  try:
    response = urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS)
  except urllib.error.HTTPError as error:
    raise ValueError('HTTP %d %s' % (error.code, error.reason)) from None
  except (urllib.error.URLError, OSError) as error:
    reason = getattr(error, 'reason', error)
    raise ValueError(str(reason)) from None
  total = response.headers.get('Content-Length')
  total = int(total) if total and total.isdigit() else None
  show = _progress_printer(total, stream)
  done = 0
  try:
    with response, open(target, 'wb') as out:
      while True:
        chunk = response.read(_CHUNK)
        if not chunk:
          break
        out.write(chunk)
        done += len(chunk)
        show(done)
  except (OSError, http.client.HTTPException) as error:
    if getattr(error, 'errno', None) in _FULL:
      raise _DiskFull(total) from None
    raise ValueError('the transfer broke off after %d bytes (%s)'
                     % (done, type(error).__name__)) from None
  finally:
    if stream.isatty():
      stream.write('\n')
  if total is not None and done < total:
    raise ValueError('the transfer broke off after %d of %d bytes'
                     % (done, total))
  return done


class _DiskFull(Exception):
  """The disk filled up; ``needed`` is the archive's size when known."""

  def __init__(self, needed: Optional[int]):
    super().__init__(needed)
    self.needed = needed


def _unpack(archive: str, folder: str, release: releases.Release) -> str:
  """Extract ``archive`` into ``folder``; the checkpoint file inside.

  Raises:
    ValueError: for a file that is not a complete gzip'd tar, or one
      without the release's checkpoint file.
  """
  try:
    with tarfile.open(archive, 'r:gz') as tar:
      tar.extractall(folder, filter='data')
  except (tarfile.TarError, EOFError, OSError, ValueError) as error:
    if getattr(error, 'errno', None) in _FULL:
      raise _DiskFull(os.path.getsize(archive) * 2) from None
    raise ValueError('it is not a complete .tar.gz archive (%s)'
                     % (error,)) from None
  for root, _, files in os.walk(folder):
    if release.checkpoint in files:
      return os.path.join(root, release.checkpoint)
  raise ValueError('it holds no %s' % release.checkpoint)


def _check_variables(checkpoint: str, release: releases.Release) -> None:
  """Raise unless ``checkpoint`` fills every variable of the release's net.

  The net is built as the release ships it (its class count) in a graph of
  its own, and every model variable must be in the checkpoint with its
  shape: an archive of another model, or a damaged one, is caught here.
  """
  # TensorFlow loads only when an archive is checked, not for a cache hit.
  import tensorflow.compat.v1 as tf  # pylint: disable=C0415
  import tf_slim as slim  # pylint: disable=C0415
  from resnet_v2.nets import checkpoints  # pylint: disable=C0415
  from resnet_v2.nets import zoo  # pylint: disable=C0415
  with tf.Graph().as_default():
    size = release.inputs.image_size
    zoo.get_network_fn(release.model, release.num_classes)(
        tf.placeholder(tf.float32, [1, size, size, 3]))
    variables = slim.get_model_variables()
    try:
      mismatches = checkpoints.find_mismatches(checkpoint, variables)
    except (tf.errors.OpError, ValueError) as error:
      raise ValueError('its checkpoint cannot be read (%s)'
                       % str(error).splitlines()[0]) from None
  if mismatches:
    first = mismatches[0]
    raise ValueError(
        'its checkpoint does not fit %s: %d of %d variables missing or of '
        'another shape, e.g. %s (checkpoint %s, net %s)'
        % (release.model, len(mismatches), len(variables), first.name,
           first.checkpoint_shape, first.graph_shape))


def _clear_partials(folder: str, release: releases.Release) -> None:
  """Delete what interrupted fetches of ``release`` left (lock held)."""
  prefix = _PARTIAL + release.entry
  for name in os.listdir(folder):
    if name.startswith(prefix):
      path = os.path.join(folder, name)
      if os.path.isdir(path):
        shutil.rmtree(path, ignore_errors=True)
      else:
        os.remove(path)


def _failure(release: releases.Release, problem: str) -> ValueError:
  """The one-line error for a fetch that failed: the cause, then the way
  to put the archive in place by hand."""
  by_hand = os.path.join(cache_dir(), release.archive)
  return ValueError(
      'could not fetch %s from %s: %s. Nothing was cached. Download %s by '
      'hand (or set %s to a mirror) and put it at %s; the same command then '
      'uses it.' % (release.model, url_of(release), problem, release.archive,
                    URL_VARIABLE, by_hand))


def _install(release: releases.Release, folder: str, stream) -> str:
  """Download (or take the hand-placed archive), unpack, check, rename."""
  by_hand = os.path.join(folder, release.archive)
  scratch = tempfile.mkdtemp(prefix=_PARTIAL + release.entry + '-',
                             dir=folder)
  try:
    archive = by_hand
    if not os.path.isfile(by_hand):
      archive = os.path.join(scratch, release.archive)
      size = _download(url_of(release), archive, stream)
      stream.write('downloaded %s (%.1f MB)\n' % (url_of(release), size / 1e6))
    unpacked = os.path.join(scratch, 'unpacked')
    checkpoint = _unpack(archive, unpacked, release)
    _check_variables(checkpoint, release)
    entry = os.path.join(folder, release.entry)
    os.rename(os.path.dirname(checkpoint), entry)
    return os.path.join(entry, release.checkpoint)
  finally:
    shutil.rmtree(scratch, ignore_errors=True)


def fetch(model: str, stream=None) -> str:
  """The local checkpoint of ``model``'s release, downloaded if need be.

  A cached entry is returned at once, without the network. Otherwise the
  archive is downloaded (a progress bar on a terminal, one line
  otherwise), unpacked and checked, then moved into the cache.

  Args:
    model: a model with released weights (``releases.list_releases()``).
    stream: where progress goes; ``sys.stderr`` when None.

  Returns:
    The path of the checkpoint file.

  Raises:
    ValueError: in one line, naming the URL and the place to put the
      archive by hand, when the download or the check fails; nothing is
      left in the cache then.
  """
  release = releases.get_release(model)
  stream = sys.stderr if stream is None else stream
  found = cached(release)
  if found:
    return found
  folder = cache_dir()
  try:
    os.makedirs(folder, exist_ok=True)
  except OSError as error:
    raise ValueError('cannot create the weights cache %s (%s): set %s to a '
                     'writable folder.' % (folder, error.strerror,
                                           HOME_VARIABLE)) from None
  with _locked(os.path.join(folder, '.%s.lock' % release.entry)):
    found = cached(release)
    if found:
      return found
    try:
      _clear_partials(folder, release)
      return _install(release, folder, stream)
    except _DiskFull as full:
      raise ValueError(_space_message(folder, full.needed)) from None
    except OSError as error:
      if error.errno in _FULL:
        raise ValueError(_space_message(folder, None)) from None
      raise _failure(release, '%s (%s)' % (error.strerror, error.filename)
                     ) from None
    except ValueError as error:
      raise _failure(release, str(error)) from None


def release_for(checkpoint_path: Optional[str],
                model: Optional[str]) -> Optional[releases.Release]:
  """The release ``checkpoint_path`` names or is the file of, else None.

  Raises:
    ValueError: see ``releases.release_named``.
  """
  if not checkpoint_path:
    return None
  if os.path.exists(checkpoint_path):
    return releases.release_of_file(checkpoint_path)
  return releases.release_named(checkpoint_path, model)


def resolve(checkpoint_path: Optional[str],
            model: Optional[str]) -> Optional[str]:
  """``checkpoint_path``, with a release name replaced by its local file.

  Raises:
    ValueError: for a name without a release, or a fetch that failed.
  """
  if not checkpoint_path or os.path.exists(checkpoint_path):
    return checkpoint_path
  release = releases.release_named(checkpoint_path, model)
  return fetch(release.model) if release else checkpoint_path

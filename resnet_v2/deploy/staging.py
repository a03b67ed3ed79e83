"""Export folders that are complete or absent, whatever stops the export.

  with complete_or_absent('models/photos') as folder:
    with write_failures_explained('models/photos', needed_bytes):
      ...write every file of the export into folder...
  # models/photos now holds every file, or does not exist

The export is written into ``.<name>.partial`` beside ``export_dir`` and
renamed into place once every file is there (POSIX renames a folder over
an empty one, so an empty folder the user made receives it). A failure
removes the partial folder; a kill (SIGTERM's default, SIGKILL) leaves it,
hidden and named partial, and nothing reads it as an export.

The partial folder is held with a kernel ``flock`` while its export runs:
a second export to the same folder finds it held and stops in one line
before any work, and a partial folder whose writer was killed is no longer
held, so the next export to that folder empties and reuses it. A write
that fails for want of space (a full disk, a quota, a file-size limit) is
one line naming the folder and the space the export needs.
"""

import contextlib
import errno
import fcntl
import os
import shutil

import tensorflow as tf

# The errors of a write that ran out of room, and EIO, which OpenVINO's
# writer reports for all of them (see ``openvino_format``).
WRITE_ERRNOS = (errno.ENOSPC, errno.EFBIG, errno.EDQUOT, errno.EIO)


def partial_dir(export_dir) -> str:
  """The hidden folder beside ``export_dir`` its export is written into."""
  path = os.path.abspath(export_dir)
  return os.path.join(os.path.dirname(path),
                      '.%s.partial' % os.path.basename(path))


def _claim(export_dir):
  """``(partial folder, its locked descriptor)``, emptied; ValueError if
  another export holds it."""
  partial = partial_dir(export_dir)
  os.makedirs(partial, exist_ok=True)
  descriptor = os.open(partial, os.O_RDONLY | os.O_DIRECTORY)
  try:
    fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
  except BlockingIOError:
    os.close(descriptor)
    raise ValueError(
        'export_dir %r is being written by another export right now (it '
        'holds %r): wait for it to finish, or pass another --export_dir.'
        % (export_dir, partial)) from None
  for name in os.listdir(partial):
    path = os.path.join(partial, name)
    if os.path.isdir(path) and not os.path.islink(path):
      shutil.rmtree(path)
    else:
      os.remove(path)
  return partial, descriptor


@contextlib.contextmanager
def complete_or_absent(export_dir):
  """Yield the partial folder; on success it becomes ``export_dir`` at once.

  Raises:
    ValueError: if another export is writing ``export_dir``, or something
      else filled ``export_dir`` while this export ran (nothing of it is
      overwritten).
  """
  partial, descriptor = _claim(export_dir)
  try:
    yield partial
    try:
      os.rename(partial, export_dir)
    except OSError as error:
      raise ValueError(
          'export_dir %r was filled by something else during the export '
          '(%s); nothing was overwritten: pass a new folder.'
          % (export_dir, error.strerror)) from None
  except BaseException:
    shutil.rmtree(partial, ignore_errors=True)
    raise
  finally:
    os.close(descriptor)


def _errors(error):
  """``error`` and the errors it was raised from or while handling."""
  seen = []
  while error is not None and error not in seen:
    seen.append(error)
    error = error.__cause__ or error.__context__
  return seen


def write_failure(error):
  """Why ``error`` is a write that ran out of room, or None if it is not.

  Python reports these as an ``OSError`` with its errno; TensorFlow's
  writers only in the message of one of their own errors.
  """
  reasons = [os.strerror(number) for number in WRITE_ERRNOS]
  for cause in _errors(error):
    if isinstance(cause, OSError) and cause.errno in WRITE_ERRNOS:
      return cause.strerror or os.strerror(cause.errno)
    if isinstance(cause, tf.errors.OpError):
      found = [reason for reason in reasons if reason in cause.message]
      if found:
        return found[0]
  return None


def _megabytes(size):
  """``size`` bytes in whole megabytes, at least one."""
  return '%d MB' % max(1, round(size / 1e6))


@contextlib.contextmanager
def write_failures_explained(export_dir, needed_bytes):
  """Turn a write that ran out of room into one ValueError.

  The message names ``export_dir``, the reason the system gave, the
  space the export needs (``needed_bytes``, an estimate) and what is free
  in the folder that holds it.
  """
  try:
    yield
  except Exception as error:
    reason = write_failure(error)
    if reason is None:
      raise
    parent = os.path.dirname(os.path.abspath(export_dir))
    raise ValueError(
        'could not write the export to %r (%s): it needs about %s in %r, '
        'which has %s free (a quota or a file-size limit can also stop it): '
        'free some space or pass an --export_dir on another disk; nothing '
        'was kept.' % (export_dir, reason, _megabytes(needed_bytes), parent,
                       _megabytes(shutil.disk_usage(parent).free))) from None

"""Hold back what converters and runtimes print, unless they fail.

  with held_back():
    convert(net, 'int8', calibration, folder)   # tf2onnx's INFO lines, the
                                                # quantizer's warnings, ...

The converters print from C++ (LiteRT's "fully_quantize: ..." line,
TensorFlow's MLIR notes), through Python's logging (ONNX Runtime's
quantizer, tf2onnx) and to ``sys.stdout`` (NNCF's progress bars), so all
three are held: file descriptors 1 and 2 point at a temporary file,
``sys.stdout`` and ``sys.stderr`` at a buffer, and the root logger's
handlers are replaced by one writing to that buffer. When the block
raises anything but a ``ValueError`` (the package's own explanation, which
says all there is to say), the held text goes to stderr before the error,
since it may tell why the conversion failed.
"""

import contextlib
import io
import logging
import os
import sys
import tempfile


@contextlib.contextmanager
def _descriptors_held(held):
  """Point file descriptors 1 and 2 at the file ``held`` while inside."""
  saved = [os.dup(1), os.dup(2)]
  try:
    os.dup2(held.fileno(), 1)
    os.dup2(held.fileno(), 2)
    yield
  finally:
    os.dup2(saved[0], 1)
    os.dup2(saved[1], 2)
    for descriptor in saved:
      os.close(descriptor)


@contextlib.contextmanager
def _logging_held(buffer):
  """Send every record reaching the root logger to ``buffer`` instead."""
  root = logging.getLogger()
  handlers = root.handlers[:]
  handler = logging.StreamHandler(buffer)
  handler.setFormatter(logging.Formatter('%(levelname)s:%(name)s:%(message)s'))
  root.handlers = [handler]
  try:
    yield
  finally:
    root.handlers = handlers


@contextlib.contextmanager
def held_back():
  """Hold back everything printed inside; replay it if the block fails."""
  sys.stdout.flush()
  sys.stderr.flush()
  buffer = io.StringIO()
  with tempfile.TemporaryFile() as held:
    try:
      with _descriptors_held(held), _logging_held(buffer), \
          contextlib.redirect_stdout(buffer), \
          contextlib.redirect_stderr(buffer):
        yield
    except ValueError:
      raise
    except Exception:
      held.seek(0)
      sys.stderr.write(held.read().decode(errors='replace') + buffer.getvalue())
      sys.stderr.flush()
      raise

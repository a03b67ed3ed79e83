"""Turn Ctrl-C and ``kill`` into a request to stop at the next step boundary.

  with StopRequest() as stop:
    while not stop.requested:
      run_one_step()

A training step interrupted half-way would leave nothing useful; stopping
after the step that is running, saving a checkpoint there, and exiting lets
the next run resume at exactly that step.
"""

import signal
import threading

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class StopRequest(object):
  """A context manager that records SIGINT/SIGTERM instead of dying on them.

  Inside the ``with`` block, ``requested`` is the name of the first stop
  signal received (e.g. ``'SIGINT'``) or None. The previous handlers come
  back on exit. Outside the main thread, where Python cannot install
  signal handlers, it records nothing and the signals act as usual.
  """

  def __init__(self):
    self.requested = None
    self._previous = {}

  def _handle(self, signum, frame):
    del frame  # The stop point is chosen by the loop, not by the signal.
    self.requested = self.requested or signal.Signals(signum).name

  def __enter__(self):
    if threading.current_thread() is threading.main_thread():
      for signum in STOP_SIGNALS:
        self._previous[signum] = signal.signal(signum, self._handle)
    return self

  def __exit__(self, *exc_info):
    for signum, handler in self._previous.items():
      signal.signal(signum, handler)
    self._previous = {}
    return False


def exit_status(signal_name):
  """The shell's exit status for death by ``signal_name`` (128 + its number).

  A stop that was not a signal to this process (another worker's) is 1.
  """
  if signal_name not in signal.Signals.__members__:
    return 1
  return 128 + int(signal.Signals[signal_name])

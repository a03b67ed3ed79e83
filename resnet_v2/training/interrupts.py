"""Turn Ctrl-C and ``kill`` into a request to stop at the next step boundary.

  with StopRequest() as stop:
    while not stop.requested:
      run_one_step()

A training step interrupted half-way would leave nothing useful; stopping
after the step that is running, saving a checkpoint there, and exiting lets
the next run resume at exactly that step. SIGTERM is what schedulers
(Kubernetes, Slurm, spot VMs) send before they kill, so a run stopped by it
says it was preempted and exits with ``exit_status('SIGTERM')``, 143.
"""

import signal
import threading
from typing import List, Optional, Sequence

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


def encode(name: Optional[str]) -> List[float]:
  """``name`` (or None) as one flag per ``STOP_SIGNALS``: what a worker
  contributes to the all-reduce in every training step."""
  return [1.0 if name == signum.name else 0.0 for signum in STOP_SIGNALS]


def decode(counts: Sequence[float]) -> Optional[str]:
  """The stop a cluster agreed on from the summed ``encode`` flags.

  The later signal of ``STOP_SIGNALS`` wins, so that a preemption
  (SIGTERM) anywhere outranks a Ctrl-C elsewhere; every worker gets the
  same sums, so all of them stop after the same step for the same reason.
  """
  received = [signum.name for signum, count in zip(STOP_SIGNALS, counts)
              if count]
  return received[-1] if received else None


def describe(name: str) -> str:
  """What a stop by signal ``name`` means, for the line the run prints."""
  if name == 'SIGTERM':
    return 'preempted (SIGTERM)'
  if name == 'SIGINT':
    return 'interrupted (SIGINT, Ctrl-C)'
  return 'stopped (%s)' % name


def exit_status(signal_name: Optional[str]) -> int:
  """The shell's exit status for death by ``signal_name`` (128 + its number).

  143 for SIGTERM (preempted), 130 for SIGINT; 1 for anything else.
  """
  if signal_name not in signal.Signals.__members__:
    return 1
  return 128 + int(signal.Signals[signal_name])

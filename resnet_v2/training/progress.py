"""Progress reports of a training run: log lines and a terminal progress bar.

  report = TrainingProgress(start_step=0, max_steps=1000, batch_size=32,
                            log_every=50)
  report.update(step, loss, accuracy)

Every ``log_every`` steps one line gives the step, the loss, the batch
accuracy, the throughput over the last window and the time left at that
pace. Between log lines a one-line bar is redrawn in place, but only when
the stream is a terminal: in a log file or a pipe a bar would be hundreds
of carriage-return fragments.
"""

import datetime
import sys
import time

_BAR_WIDTH = 30


def format_duration(seconds):
  """``seconds`` as H:MM:SS, rounded to whole seconds."""
  return str(datetime.timedelta(seconds=int(round(max(seconds, 0)))))


class TrainingProgress(object):
  """Reports the steps of a run from ``start_step`` to ``max_steps``.

  Call ``update`` after every step. Throughput is measured from one log
  line to the next, so the first window (which includes graph optimisation
  and pipeline warm-up) is the only slow one.
  """

  def __init__(self, start_step, max_steps, batch_size, log_every,
               stream=None, clock=time.time):
    self.max_steps = max_steps
    self.batch_size = batch_size
    self.log_every = log_every
    self.stream = stream or sys.stdout
    self.clock = clock
    self.show_bar = bool(getattr(self.stream, 'isatty', lambda: False)())
    self._window_start = (start_step, clock())

  def log_line(self, step, loss, accuracy):
    """The log line for ``step`` (and start a new throughput window)."""
    first_step, start_time = self._window_start
    now = self.clock()
    steps_per_sec = (step - first_step) / max(now - start_time, 1e-9)
    images_per_sec = steps_per_sec * self.batch_size
    eta = ((self.max_steps - step) / steps_per_sec if steps_per_sec > 0
           else float('inf'))
    self._window_start = (step, now)
    return ('step %d/%d  loss %.4f  accuracy %.3f  images/sec %.1f  ETA %s'
            % (step, self.max_steps, loss, accuracy, images_per_sec,
               format_duration(eta) if eta != float('inf') else '?'))

  def _bar(self, step):
    """The in-place bar text for ``step``."""
    filled = int(_BAR_WIDTH * step / max(self.max_steps, 1))
    return '\r[%s%s] %d/%d' % ('#' * filled, '.' * (_BAR_WIDTH - filled),
                               step, self.max_steps)

  def update(self, step, loss, accuracy, force_log=False):
    """Report ``step``: a log line every ``log_every`` steps, else the bar.

    Returns:
      True if a log line was written (every ``log_every`` steps, at the
      last step, or when ``force_log``).
    """
    logged = (force_log or step % self.log_every == 0 or
              step == self.max_steps)
    if logged:
      self.message(self.log_line(step, loss, accuracy))
    elif self.show_bar:
      self.stream.write(self._bar(step))
      self.stream.flush()
    return logged

  def message(self, text):
    """Print a line of text that is not a step report."""
    if self.show_bar:
      self.stream.write('\r' + ' ' * (_BAR_WIDTH + 25) + '\r')
    self.stream.write(text + '\n')
    self.stream.flush()

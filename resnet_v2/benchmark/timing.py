"""Time ``session.run`` calls the way TensorFlow's classic benchmarks did.

  result = time_tensorflow_run(session, logits, 'Forward', num_batches=100)
  print(result.mean, result.sd, result.median)

The protocol, from the AlexNet/VGG/Inception timing scripts that shipped
with TensorFlow: run a few untimed burn-in steps first (they pay for graph
optimisation, memory allocation and cold caches), then time each of
``num_batches`` steps separately, print a line every 10 steps, and finish
with the mean and standard deviation in seconds per batch.
"""

import collections
import datetime
import math
import statistics
import sys
import time

from resnet_v2.common import checks

PROGRESS_EVERY = 10


class TimingResult(collections.namedtuple(
    'TimingResult', ['info_string', 'mean', 'sd', 'durations'])):
  """The timed steps of one ``time_tensorflow_run``.

  Attributes:
    info_string: what was timed, as passed to ``time_tensorflow_run``.
    mean: mean seconds per step over the timed steps.
    sd: population standard deviation of the step durations, in seconds
      (the classic protocol's ``sqrt(E[d^2] - E[d]^2)``).
    durations: seconds of each timed step, in order (burn-in excluded).
  """

  __slots__ = ()

  @property
  def median(self):
    """The median step duration: robust to the odd step a busy machine slows."""
    return statistics.median(self.durations)

  @property
  def num_steps(self):
    """How many steps were timed."""
    return len(self.durations)


def _now():
  """The timestamp that starts each printed line."""
  return datetime.datetime.now()


def mean_and_sd(durations):
  """``(mean, sd)`` of ``durations``, with the population standard deviation.

  Computed from the sums of the durations and of their squares, as the
  classic protocol does; a negative variance from rounding is clamped to 0.
  """
  count = len(durations)
  mean = sum(durations) / count
  variance = sum(d * d for d in durations) / count - mean * mean
  return mean, math.sqrt(max(variance, 0.0))


def _timed_run(session, target, feed_dict):
  """Seconds one ``session.run(target)`` takes."""
  start = time.perf_counter()
  session.run(target, feed_dict=feed_dict)
  return time.perf_counter() - start


def _summarise(info_string, durations, stream):
  """Print the classic summary line; return the ``TimingResult``."""
  mean, sd = mean_and_sd(durations)
  print('%s: %s across %d steps, %.3f +/- %.3f sec / batch'
        % (_now(), info_string, len(durations), mean, sd),
        file=stream, flush=True)
  return TimingResult(info_string, mean, sd, tuple(durations))


def time_tensorflow_run(session, target, info_string, num_batches=100,
                        num_burn_in=10, feed_dict=None, stream=None):
  """Run ``target`` repeatedly, print the classic timing lines, return them.

  Args:
    session: a ``tf.compat.v1.Session`` whose variables are initialised.
    target: anything ``session.run`` accepts (an op, a tensor, a list).
    info_string: what is timed, e.g. ``'Forward'``; it starts the summary.
    num_batches: steps to time (at least 1).
    num_burn_in: untimed steps before them (0 or more).
    feed_dict: passed to every ``session.run``.
    stream: where the lines go; ``sys.stdout`` when None.

  Returns:
    A ``TimingResult`` with the mean, sd and every timed step's duration.
    After burn-in, every 10th timed step prints its number (from 0) and
    duration; the last line reads ``<timestamp>: <info_string> across <N>
    steps, <mean> +/- <sd> sec / batch``.

  Raises:
    ValueError: if num_batches < 1 or num_burn_in < 0.
  """
  checks.check_count('num_batches', num_batches, 1)
  checks.check_count('num_burn_in', num_burn_in, 0)
  stream = sys.stdout if stream is None else stream
  for _ in range(num_burn_in):
    session.run(target, feed_dict=feed_dict)
  durations = []
  for step in range(num_batches):
    durations.append(_timed_run(session, target, feed_dict))
    if step % PROGRESS_EVERY == 0:
      print('%s: step %d, duration = %.3f' % (_now(), step, durations[-1]),
            file=stream, flush=True)
  return _summarise(info_string, durations, stream)


def time_interleaved(session, targets, num_batches=100, num_burn_in=10,
                     feed_dict=None, stream=None):
  """Time several targets step by step in turn, so drift hits all alike.

  On a shared or thermally throttled machine, speed changes over seconds.
  Timing one net after another would charge that change to whichever ran
  last; running one step of each in turn spreads it evenly. The order
  rotates every step so that no target always follows the same one.

  Args:
    session: a ``tf.compat.v1.Session`` whose variables are initialised.
    targets: a dict from an info string (a name) to a ``session.run``
      target; the dict's order is the order of the summary lines.
    num_batches, num_burn_in, feed_dict, stream: as in
      ``time_tensorflow_run``, applied to every target.

  Returns:
    A dict from each name to its ``TimingResult``. Every 10th step prints
    one line with each target's duration, and each target ends with the
    classic summary line.

  Raises:
    ValueError: if num_batches < 1, num_burn_in < 0 or targets is empty.
  """
  checks.check_count('num_batches', num_batches, 1)
  checks.check_count('num_burn_in', num_burn_in, 0)
  if not targets:
    raise ValueError('targets must name at least one target to time.')
  stream = sys.stdout if stream is None else stream
  names = list(targets)
  for _ in range(num_burn_in):
    for name in names:
      session.run(targets[name], feed_dict=feed_dict)
  durations = {name: [] for name in names}
  for step in range(num_batches):
    shift = step % len(names)
    for name in names[shift:] + names[:shift]:
      durations[name].append(_timed_run(session, targets[name], feed_dict))
    if step % PROGRESS_EVERY == 0:
      print('%s: step %d, duration = %s' % (_now(), step, ', '.join(
          '%s %.3f' % (name, durations[name][-1]) for name in names)),
            file=stream, flush=True)
  return {name: _summarise(name, durations[name], stream) for name in names}


class CallRunner:
  """Stands in for a session in ``timing``: ``run(fn)`` calls ``fn()``.

  The timing protocol (burn-in, per-step durations, interleaving, summary
  lines) is written against ``session.run(target)``; with this runner the
  targets are zero-argument callables, so a Session step and a
  ``tf.function`` step are timed by the same code.
  """

  def run(self, target, feed_dict=None):
    """``target()``: what the step returns."""
    del feed_dict  # The callables take their inputs with them.
    return target()

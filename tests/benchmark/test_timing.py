"""``time_tensorflow_run`` and ``time_interleaved`` follow the classic protocol.

Oracles: a fake clock that each fake ``session.run`` advances by a known
amount, so every duration, mean and standard deviation is hand-computed
(numpy's population statistics); and one real TensorFlow session.
"""

import io
import re

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

import resnet_v2
from resnet_v2.benchmark import timing

SUMMARY = re.compile(r'^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+: (.+) across (\d+) '
                     r'steps, (\d+\.\d{3}) \+/- (\d+\.\d{3}) sec / batch$')
STEP = re.compile(r'^\d{4}-\d\d-\d\d [\d:.]+: step (\d+), duration = (.+)$')


class FakeClockSession:
  """A session each of whose runs takes the next of ``step_seconds``."""

  def __init__(self, monkeypatch, step_seconds):
    self.now = 0.0
    self.step_seconds = list(step_seconds)
    self.calls = []
    monkeypatch.setattr(timing.time, 'perf_counter', lambda: self.now)

  def run(self, target, feed_dict=None):
    self.calls.append((target, feed_dict))
    self.now += self.step_seconds[len(self.calls) - 1]


def test_burn_in_steps_run_but_are_not_timed(monkeypatch):
  session = FakeClockSession(monkeypatch, [9.0, 9.0] + [0.5] * 4)
  result = resnet_v2.time_tensorflow_run(session, 'op', 'Forward',
                                         num_batches=4, num_burn_in=2,
                                         stream=io.StringIO())
  assert len(session.calls) == 6
  assert result.durations == (0.5, 0.5, 0.5, 0.5)
  assert result.num_steps == 4


def test_mean_and_sd_are_the_population_statistics_of_the_steps(monkeypatch):
  steps = [0.1, 0.2, 0.4, 0.8, 0.3]
  session = FakeClockSession(monkeypatch, steps)
  result = resnet_v2.time_tensorflow_run(session, 'op', 'Forward',
                                         num_batches=5, num_burn_in=0,
                                         stream=io.StringIO())
  assert result.mean == pytest.approx(np.mean(steps))
  assert result.sd == pytest.approx(np.std(steps))
  assert result.median == pytest.approx(0.3)
  assert result.durations == pytest.approx(steps)


def test_prints_every_tenth_step_then_the_classic_summary(monkeypatch):
  steps = [0.25] * 3 + [0.125] * 25
  session = FakeClockSession(monkeypatch, steps)
  stream = io.StringIO()
  resnet_v2.time_tensorflow_run(session, 'op', 'Forward-backward',
                                num_batches=25, num_burn_in=3, stream=stream)
  lines = stream.getvalue().splitlines()
  assert [STEP.match(line).groups() for line in lines[:-1]] == [
      ('0', '0.125'), ('10', '0.125'), ('20', '0.125')]
  assert SUMMARY.match(lines[-1]).groups() == (
      'Forward-backward', '25', '0.125', '0.000')


def test_feed_dict_reaches_every_run(monkeypatch):
  session = FakeClockSession(monkeypatch, [0.1] * 3)
  resnet_v2.time_tensorflow_run(session, 'op', 'Forward', num_batches=2,
                                num_burn_in=1, feed_dict={'x': 1},
                                stream=io.StringIO())
  assert session.calls == [('op', {'x': 1})] * 3


@pytest.mark.parametrize('arguments, name', [
    (dict(num_batches=0), 'num_batches'),
    (dict(num_batches=2.5), 'num_batches'),
    (dict(num_burn_in=-1), 'num_burn_in'),
    (dict(num_burn_in=True), 'num_burn_in'),
])
def test_bad_counts_raise_a_value_error_naming_them(arguments, name):
  with pytest.raises(ValueError, match=name):
    resnet_v2.time_tensorflow_run(None, 'op', 'Forward', **arguments)


def test_times_a_real_session_and_returns_its_numbers():
  with tf.Graph().as_default():
    product = tf.matmul(tf.ones([64, 64]), tf.ones([64, 64]))
    with tf.Session() as session:
      stream = io.StringIO()
      result = timing.time_tensorflow_run(session, product, 'MatMul',
                                          num_batches=3, num_burn_in=1,
                                          stream=stream)
  assert isinstance(result, resnet_v2.TimingResult)
  assert result.num_steps == 3 and all(d > 0 for d in result.durations)
  mean, sd = SUMMARY.match(stream.getvalue().splitlines()[-1]).groups()[2:]
  assert float(mean) == pytest.approx(result.mean, abs=5e-4)
  assert float(sd) == pytest.approx(result.sd, abs=5e-4)


def test_interleaved_runs_rotate_the_order_every_step(monkeypatch):
  session = FakeClockSession(monkeypatch, [0.1] * 12)
  timing.time_interleaved(session, {'a': 'A', 'b': 'B', 'c': 'C'},
                          num_batches=3, num_burn_in=1, stream=io.StringIO())
  order = ''.join(target for target, _ in session.calls)
  assert order == 'ABC' + 'ABC' + 'BCA' + 'CAB'


def test_interleaved_results_belong_to_their_targets(monkeypatch):
  session = FakeClockSession(monkeypatch, [])
  seconds = {'fast': 0.25, 'slow': 0.75}

  def run(target, feed_dict=None):
    del feed_dict
    session.now += seconds[target]

  session.run = run
  stream = io.StringIO()
  results = timing.time_interleaved(session, {'ours': 'fast', 'peer': 'slow'},
                                    num_batches=12, num_burn_in=2,
                                    stream=stream)
  assert results['ours'].durations == (0.25,) * 12
  assert results['peer'].mean == pytest.approx(0.75)
  lines = stream.getvalue().splitlines()
  assert [STEP.match(line).group(2) for line in lines[:2]] == [
      'ours 0.250, peer 0.750'] * 2
  assert [SUMMARY.match(line).group(1) for line in lines[2:]] == [
      'ours', 'peer']


def test_interleaved_needs_a_target():
  with pytest.raises(ValueError, match='targets'):
    timing.time_interleaved(None, {}, num_batches=1)

"""The machine's practical peak: GFLOP/s of one large square matmul.

  peak = measure_matmul_peak('fp32')        # PeakResult(gflops=..., dtype=...)
  print('%.1f GFLOP/s' % peak.gflops)

A network can run no faster than the best dense kernel of the library it
runs on, so a benchmark reports its speed as a fraction of that kernel's
speed, measured in the same process, with the same threads and in the same
precision. A large matmul is the standard yardstick: it is compute bound,
and oneDNN (on CPUs) or cuBLAS (on GPUs) run it close to the hardware's
limit.
"""

import collections
import time

import tensorflow.compat.v1 as tf

from resnet_v2.common import checks
from resnet_v2.common import precision as precision_lib

DEFAULT_SIZE = 2048
DEFAULT_NUM_RUNS = 10
NUM_WARM_UP_RUNS = 2


PeakResult = collections.namedtuple(
    'PeakResult', ['gflops', 'size', 'dtype', 'best_sec'])
PeakResult.__doc__ = """What ``measure_matmul_peak`` found.

Attributes:
  gflops: ``2 * size**3`` FLOPs over the fastest run's time, in GFLOP/s.
  size: side of the square matrices.
  dtype: name of the dtype the matmul ran in, e.g. ``'bfloat16'``.
  best_sec: seconds of the fastest matmul.
"""


def _square_matrix(size, dtype, seed):
  """A ``size x size`` variable of uniform values in ``dtype``.

  A variable, not a constant, so the timed run does not re-create or copy
  its inputs: it only multiplies.
  """
  values = tf.random.uniform([size, size], seed=seed)
  return tf.Variable(tf.cast(values, dtype), trainable=False)


def measure_matmul_peak(precision='fp32', size=DEFAULT_SIZE,
                        num_runs=DEFAULT_NUM_RUNS, config=None):
  """Time a ``size x size`` matmul ``num_runs`` times; report the fastest.

  Args:
    precision: 'fp32' or 'bf16'; the matmul runs in
      ``precision.compute_dtype(precision)`` (bfloat16 on a CPU, float16
      on a GPU for bf16).
    size: side of the square matrices; 2048 keeps one run short while
      still saturating the cores with work.
    num_runs: timed runs, after two untimed warm-up runs.
    config: the ``ConfigProto`` the benchmarked net runs with, so the
      matmul gets the same threads.

  Returns:
    A ``PeakResult``. The fastest run, not the mean, is the peak: on a
    machine shared with other work, slower runs measure the others' load,
    not what the cores can do.

  Raises:
    ValueError: for an unknown precision, or size or num_runs < 1.
  """
  dtype = precision_lib.compute_dtype(precision)
  checks.check_count('size', size, 1)
  checks.check_count('num_runs', num_runs, 1)
  with tf.Graph().as_default():
    product = tf.matmul(_square_matrix(size, dtype, seed=1),
                        _square_matrix(size, dtype, seed=2))
    with tf.Session(config=config) as session:
      session.run(tf.global_variables_initializer())
      for _ in range(NUM_WARM_UP_RUNS):
        session.run(product.op)
      durations = []
      for _ in range(num_runs):
        start = time.perf_counter()
        session.run(product.op)
        durations.append(time.perf_counter() - start)
  best_sec = min(durations)
  return PeakResult(2.0 * size ** 3 / best_sec / 1e9, size, dtype.name,
                    best_sec)

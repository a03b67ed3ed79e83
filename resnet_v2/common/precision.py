"""Numeric precision and session options: fp32, or bf16 mixed precision.

A net is always *built* in float32, so its variables and checkpoints stay
the same whatever precision it runs in. Reduced precision is a Grappler
graph rewrite that TensorFlow applies when a session starts: it casts the
convolutions and matmuls (and the ops between them that are safe) to a
16-bit type and keeps numerically sensitive ops (softmax, losses, batch
norm statistics) in float32. ``session_config`` asks for that rewrite;
``check_precision_supported`` says up front when the hardware cannot run it
fast, instead of letting TensorFlow fall back to slow emulated kernels.

The ``'bf16'`` precision means the machine's fast 16-bit type:

* on a CPU with AVX512-BF16 or AMX, bfloat16 through oneDNN's
  ``auto_mixed_precision_onednn_bfloat16`` rewrite;
* on a GPU, float16 through the ``auto_mixed_precision`` rewrite (float16
  tensor cores are what GPUs accelerate; the rewrite adds loss scaling
  where training needs it).
"""

import contextlib
import numbers
import os

import tensorflow as tf2
import tensorflow.compat.v1 as tf
from tensorflow.core.protobuf import rewriter_config_pb2

PRECISIONS = ('fp32', 'bf16')

# /proc/cpuinfo flags of the x86 instructions oneDNN uses for bfloat16.
BF16_CPU_FLAGS = ('avx512_bf16', 'amx_bf16')

_CPUINFO_PATH = '/proc/cpuinfo'

# Without this flag TensorFlow's global JIT level only clusters GPU ops.
XLA_CPU_JIT_FLAG = '--tf_xla_cpu_global_jit'


def _check_precision_name(precision):
  """Raise a ValueError unless ``precision`` is one of ``PRECISIONS``."""
  if precision not in PRECISIONS:
    raise ValueError('precision must be one of %s; got %r.'
                     % (', '.join(repr(p) for p in PRECISIONS), precision))


def cpu_flags(cpuinfo_path=_CPUINFO_PATH):
  """The set of CPU feature flags the kernel reports, empty if unknown.

  Linux lists the instruction-set extensions of each core on a ``flags``
  line of ``/proc/cpuinfo``; the first such line is read (all cores of a
  machine share them). On other systems, or if the file cannot be read,
  the set is empty, so bf16 is reported unsupported rather than guessed.
  """
  try:
    with open(cpuinfo_path) as cpuinfo:
      for line in cpuinfo:
        key, _, value = line.partition(':')
        if key.strip() == 'flags':
          return set(value.split())
  except OSError:
    pass
  return set()


def has_gpu():
  """True when TensorFlow sees at least one GPU."""
  return bool(tf.config.list_physical_devices('GPU'))


def cpu_supports_bf16(flags=None):
  """True when the CPU has bfloat16 instructions oneDNN can use.

  Args:
    flags: CPU feature flags; ``cpu_flags()`` when None.
  """
  flags = cpu_flags() if flags is None else flags
  return any(flag in flags for flag in BF16_CPU_FLAGS)


def check_precision_supported(precision):
  """Raise a ValueError if this machine cannot run ``precision`` natively.

  fp32 runs everywhere. bf16 needs a GPU (where it runs as float16) or a
  CPU with AVX512-BF16 or AMX: without them the rewritten graph would
  emulate 16-bit arithmetic and run slower than fp32.

  Raises:
    ValueError: for an unknown precision name, or bf16 on hardware without
      fast 16-bit arithmetic.
  """
  _check_precision_name(precision)
  if precision == 'bf16' and not (has_gpu() or cpu_supports_bf16()):
    raise ValueError(
        'precision=bf16 needs a GPU or a CPU with AVX512-BF16 or AMX '
        '(/proc/cpuinfo flag %s), and this machine has neither; use '
        "precision='fp32'." % ' or '.join(BF16_CPU_FLAGS))


def compute_dtype(precision):
  """The dtype the heavy ops run in at ``precision``.

  float32 for fp32; for bf16, float16 on a GPU and bfloat16 on a CPU, the
  same type the rewrite chosen by ``session_config`` casts to. A
  benchmark uses it to measure the peak of the same arithmetic.
  """
  _check_precision_name(precision)
  if precision == 'fp32':
    return tf.float32
  return tf.float16 if has_gpu() else tf.bfloat16


def _check_thread_count(name, value):
  """Raise unless ``value`` is a non-negative int (0 lets TF decide)."""
  if (isinstance(value, bool) or not isinstance(value, numbers.Integral) or
      value < 0):
    raise ValueError('%s must be a non-negative int (0 lets TensorFlow pick '
                     'one thread per core); got %r.' % (name, value))


def _enable_xla_on_cpu():
  """Add ``XLA_CPU_JIT_FLAG`` to ``TF_XLA_FLAGS`` unless it is there.

  TensorFlow reads ``TF_XLA_FLAGS`` once, when it first sets up its
  devices (the first session, or a device query such as ``has_gpu``), so
  this only takes effect before that. The flag is harmless on a GPU
  machine and for sessions without a JIT level: it only lets a session
  that asks for global JIT compile CPU ops too.
  """
  flags = os.environ.get('TF_XLA_FLAGS', '')
  if XLA_CPU_JIT_FLAG not in flags.split():
    os.environ['TF_XLA_FLAGS'] = (flags + ' ' + XLA_CPU_JIT_FLAG).strip()


def session_config(precision='fp32', xla=False, intra_op_threads=0,
                   inter_op_threads=0):
  """A ``tf.compat.v1.ConfigProto`` that runs a float32 graph as asked.

  Args:
    precision: 'fp32', or 'bf16' to turn on the mixed-precision rewrite
      that fits the hardware (see the module docstring).
    xla: compile the graph with XLA at the global JIT level, which fuses
      the element-wise ops around each convolution into one kernel. For
      CPUs this also adds ``--tf_xla_cpu_global_jit`` to ``TF_XLA_FLAGS``
      in the environment, which TensorFlow honours only if it has not set
      up its devices yet in this process: call this first.
    intra_op_threads: threads one op may use (0: one per core).
    inter_op_threads: ops that may run at once (0: TensorFlow's choice).

  Returns:
    The ConfigProto to pass to ``tf.compat.v1.Session(config=...)``. The
    graph itself is left unchanged, so the same float32 variables and
    checkpoints serve every precision.

  Raises:
    ValueError: for an unknown precision, a negative or non-int thread
      count, or a non-bool ``xla``.
  """
  _check_precision_name(precision)
  _check_thread_count('intra_op_threads', intra_op_threads)
  _check_thread_count('inter_op_threads', inter_op_threads)
  if not isinstance(xla, bool):
    raise ValueError('xla must be True or False; got %r.' % (xla,))
  if xla:
    _enable_xla_on_cpu()
  config = tf.ConfigProto(intra_op_parallelism_threads=intra_op_threads,
                          inter_op_parallelism_threads=inter_op_threads)
  if precision == 'bf16':
    rewrites = config.graph_options.rewrite_options
    if has_gpu():
      rewrites.auto_mixed_precision = rewriter_config_pb2.RewriterConfig.ON
    else:
      rewrites.auto_mixed_precision_onednn_bfloat16 = (
          rewriter_config_pb2.RewriterConfig.ON)
  if xla:
    config.graph_options.optimizer_options.global_jit_level = (
        tf.OptimizerOptions.ON_1)
  return config


# The Grappler rewrites ``session_config`` may switch on, by the names
# ``tf.config.optimizer`` knows them under.
MIXED_PRECISION_REWRITES = ('auto_mixed_precision',
                            'auto_mixed_precision_onednn_bfloat16')


def function_rewrites(config) -> dict:
  """``{rewrite: on}`` of ``config`` (a ``session_config``) for tf.functions.

  ``tf.config.optimizer.set_experimental_options`` with this dict gives
  eager code and ``tf.function`` the rewrite a session with ``config`` gets.
  """
  rewrites = config.graph_options.rewrite_options
  return {name: getattr(rewrites, name) == rewrites.ON
          for name in MIXED_PRECISION_REWRITES}


@contextlib.contextmanager
def function_precision(precision='fp32'):
  """Run tf.functions at ``precision`` while inside (see ``session_config``)."""
  tf2.config.optimizer.set_experimental_options(
      function_rewrites(session_config(precision)))
  try:
    yield
  finally:
    tf2.config.optimizer.set_experimental_options(
        function_rewrites(session_config('fp32')))

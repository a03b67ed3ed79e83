"""Time the Keras layer under tf.function next to the graph build, in one run.

  results = run_sweep([BenchmarkSpec(model='resnet_v2_50')], ['slim', 'keras'])
  print(report.peers_table(results[0]))    # both APIs, with the ratio

The 'slim' API is the net as the rest of the benchmark times it: the graph
builder in a TF1 graph, stepped by ``Session.run``. The 'keras' API is the
same net as ``resnet_v2.tf_keras.ResNetV2``, stepped by a ``tf.function``
(forward: the inference logits; forward-backward: the gradients of
``tf.nn.l2_loss(logits)`` with respect to every trainable variable, with
the batch-norm updates, as the graph step does). Both run in one process
on the same kind of input, interleaved step by step, so that the ratio of
their step times is not the machine's drift.
"""

import contextlib
from typing import Callable

import tensorflow as tf

from resnet_v2 import tf_keras as resnet_keras
from resnet_v2.benchmark import comparison
from resnet_v2.benchmark import peers
from resnet_v2.benchmark import report
from resnet_v2.benchmark import runner
from resnet_v2.benchmark import spec as spec_lib
from resnet_v2.benchmark import timing
from resnet_v2.common import precision as precision_lib

APIS = ('slim', 'keras')

# What each API's timing lines and table rows call it.
API_NAMES = {
    'slim': 'graph build (Session.run)',
    'keras': 'resnet_v2.tf_keras.ResNetV2 (tf.function)',
}

def check_apis(apis) -> list:
  """``apis`` as a list of distinct names from ``APIS``, or a ValueError."""
  apis = list(apis)
  if not apis or any(api not in APIS for api in apis) or \
      len(set(apis)) != len(apis):
    raise ValueError(
        '--api must be slim, keras or a comma list of both (slim,keras times '
        'them side by side); got %r.' % ','.join(apis))
  return apis


def check_spec_for_apis(spec, apis) -> None:
  """Raise a ValueError if ``spec`` asks for what the Keras timing lacks."""
  if 'keras' in apis and spec.compare:
    raise ValueError('--compare times the peers in the graph build only: '
                     'use it with --api=slim, or drop it.')


class _CallRunner:
  """Stands in for a session in ``timing``: ``run(fn)`` calls ``fn()``.

  The timing protocol (burn-in, per-step durations, interleaving, summary
  lines) is written against ``session.run(target)``; with this runner the
  targets are zero-argument callables, so a Session step and a
  ``tf.function`` step are timed by the same code.
  """

  def run(self, target, feed_dict=None):
    del feed_dict  # The callables take their inputs with them.
    return target()


def _apply_eager_options(spec, stream):
  """Give eager code the spec's threads and precision rewrites.

  The threads can only be set before TensorFlow's eager context starts (a
  later call with the same values is a no-op); if it has started with
  other values, the step runs with those and a line says so. The rewrites
  are read when a function first runs, so they apply to the next step.
  """
  config = spec.session_config()
  try:
    tf.config.threading.set_intra_op_parallelism_threads(
        config.intra_op_parallelism_threads)
    tf.config.threading.set_inter_op_parallelism_threads(
        config.inter_op_parallelism_threads)
  except RuntimeError:
    print('Eager code had already started: the Keras step runs with %d '
          'intra-op and %d inter-op threads (0: one per core).' % (
              tf.config.threading.get_intra_op_parallelism_threads(),
              tf.config.threading.get_inter_op_parallelism_threads()),
          file=stream, flush=True)
  tf.config.optimizer.set_experimental_options(
      precision_lib.function_rewrites(config))


def keras_step(spec, stream=None) -> Callable:
  """A zero-argument ``tf.function`` running the Keras layer as ``spec`` asks.

  The layer is built eagerly first (random weights, 1000 classes), and the
  input batch is a non-trainable variable, as in the graph build. Progress
  notes go to ``stream`` (stdout when None).

  Raises:
    RuntimeError: when called in graph mode, where the step would only
      add symbolic ops to a graph and time nothing.
  """
  if not tf.executing_eagerly():
    raise RuntimeError('keras_step times eager TensorFlow: call it outside '
                       '`with tf.Graph().as_default():` and any Session.')
  _apply_eager_options(spec, stream)
  layer = resnet_keras.ResNetV2(spec.model, peers.NUM_CLASSES,
                                weight_decay=0.0)
  images = tf.Variable(tf.random.uniform(
      [spec.batch_size, spec.image_size, spec.image_size,
       spec_lib.IMAGE_CHANNELS], -1.0, 1.0, seed=0), trainable=False)
  layer(images[:1])
  if spec.mode == 'forward':
    def step():
      return layer(images, training=False)
  else:
    def step():
      with tf.GradientTape() as tape:
        loss = tf.nn.l2_loss(layer(images, training=True))
      return tape.gradient(loss, layer.trainable_variables)
  return tf.function(step, jit_compile=True if spec.xla else None)


def _graph_step(spec, stack):
  """A zero-argument callable running the graph build's step in a Session.

  The graph is default only while it is built, so the eager code that
  follows stays eager; its session stays open until ``stack`` (an
  ExitStack) closes.
  """
  graph = tf.Graph()
  with graph.as_default():
    images = runner.benchmark_images(spec.batch_size, spec.image_size)
    outputs = peers.build_project_net(
        spec.model, images, is_training=spec.mode == 'forward_backward')
    target = runner.timed_target(outputs, spec.mode)
    initializer = tf.compat.v1.global_variables_initializer()
  # Not entered as a context: that would make the graph the default again.
  session = tf.compat.v1.Session(graph=graph, config=spec.session_config())
  stack.callback(session.close)
  session.run(initializer)
  return lambda: session.run(target)


def time_apis(spec, apis, stream=None) -> dict:
  """``{API_NAMES[api]: TimingResult}`` of ``spec`` for each of ``apis``.

  With two APIs their steps are interleaved (``timing.time_interleaved``);
  the dict follows the order of ``apis``.
  """
  with contextlib.ExitStack() as stack:
    steps = {}
    for api in apis:
      print('Building %s: %s %s...' % (API_NAMES[api], spec.model,
                                       spec.mode.replace('_', '-')),
            file=stream, flush=True)
      if api == 'slim':
        steps[API_NAMES[api]] = _graph_step(spec, stack)
      else:
        steps[API_NAMES[api]] = keras_step(spec, stream)
    return timing.time_interleaved(_CallRunner(), steps, spec.num_batches,
                                   spec.num_burn_in, stream=stream)


def run_benchmark(spec, apis, peak,
                  stream=None) -> spec_lib.BenchmarkResult:
  """Time ``spec`` in each of ``apis``; a ``BenchmarkResult`` of the first.

  With two APIs, ``peers`` lists both (the first with ratio 1), each with
  the median ratio of its step time to the first API's in the same round.
  """
  spec_lib.check_spec(spec)
  check_spec_for_apis(spec, apis)
  timings = time_apis(spec, apis, stream)
  first = timings[API_NAMES[apis[0]]]
  table = (comparison.peer_results(timings, API_NAMES[apis[0]])
           if len(apis) > 1 else None)
  return runner.benchmark_result(spec, first, peak, table)


def run_sweep(specs, apis, stream=None) -> list:
  """Run every spec in ``apis``; the ``BenchmarkResult`` list.

  ``['slim']`` is the benchmark's usual sweep (``runner.run_sweep``).
  Otherwise each result describes the first API, and with both APIs its
  peers table lists the two side by side with the ratio.
  """
  apis = check_apis(apis)
  if apis == ['slim']:
    return runner.run_sweep(specs, stream)
  for spec in specs:
    spec_lib.check_spec(spec)
    check_spec_for_apis(spec, apis)
  peaks = {}
  results = []
  for spec in specs:
    key = (spec.precision, spec.intra_op_threads, spec.inter_op_threads)
    if key not in peaks:
      peaks[key] = runner.measure_peak(spec, stream)
    result = run_benchmark(spec, apis, peaks[key], stream)
    print('Through the %s:\n%s' % (API_NAMES[apis[0]],
                                     report.run_summary(result)),
          file=stream, flush=True)
    if result.peers:
      print('Each API, with its step time over the %s step of the same round '
            '(median):\n%s' % (API_NAMES[apis[0]], report.peers_table(result)),
            file=stream, flush=True)
    results.append(result)
  return results

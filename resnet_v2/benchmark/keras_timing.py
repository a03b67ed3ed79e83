"""Time the Keras layer and Keras 3 model next to the graph build, in one run.

  results = run_sweep([BenchmarkSpec(model='resnet_v2_50')], ['slim', 'keras'])
  print(report.peers_table(results[0]))    # both APIs, with the ratio
  run_sweep(specs, ['slim', 'keras3'], backends=['tensorflow', 'jax'])

The 'slim' API is the net as the rest of the benchmark times it: the graph
builder in a TF1 graph, stepped by ``Session.run``. The 'keras' API is the
same net as ``resnet_v2.tf_keras.ResNetV2``, stepped by a ``tf.function``
(forward: the inference logits; forward-backward: the gradients of
``tf.nn.l2_loss(logits)`` with respect to every trainable variable, with
the batch-norm updates, as the graph step does). Both run in one process
on the same kind of input, interleaved step by step, so that the ratio of
their step times is not the machine's drift. The 'keras3' API is the Keras 3
model ``resnet_v2.keras.ResNetV2`` on each backend asked for, each timed in
a process of its own against the graph build there (``keras3_timing``).
"""

import contextlib
from typing import Callable

import tensorflow as tf

from resnet_v2 import tf_keras as resnet_keras
from resnet_v2.benchmark import comparison
from resnet_v2.benchmark import keras3_timing
from resnet_v2.benchmark import peers
from resnet_v2.benchmark import report
from resnet_v2.benchmark import runner
from resnet_v2.benchmark import spec as spec_lib
from resnet_v2.benchmark import timing

APIS = ('slim', 'keras', 'keras3')

# What each API's timing lines and table rows call it; the Keras 3 rows
# are named per backend (``keras3_timing.keras3_name``).
API_NAMES = {
    'slim': runner.SESSION_STEP_NAME,
    'keras': 'resnet_v2.tf_keras.ResNetV2 (tf.function)',
    'keras3': 'resnet_v2.keras.ResNetV2 (Keras 3)',
}
BACKENDS = tuple(keras3_timing.SETTINGS)


def check_apis(apis) -> list:
  """``apis`` as a list of distinct names from ``APIS``, or a ValueError."""
  apis = list(apis)
  if not apis or any(api not in APIS for api in apis) or \
      len(set(apis)) != len(apis):
    raise ValueError(
        '--api must be slim, keras, keras3 or a comma list of them '
        '(slim,keras,keras3 times them side by side); got %r.'
        % ','.join(apis))
  if 'keras3' in apis and apis[0] != 'slim':
    raise ValueError(
        '--api=%s: keras3 is timed against the graph build in its own '
        'process, so list slim first, e.g. --api=slim,keras3.'
        % ','.join(apis))
  return apis


def check_backends(backends) -> list:
  """``backends`` as a list of distinct names from ``BACKENDS``."""
  backends = list(backends)
  if not backends or any(name not in BACKENDS for name in backends) or \
      len(set(backends)) != len(backends):
    raise ValueError('--backend must be %s or a comma list of them; got %r.'
                     % (', '.join(BACKENDS), ','.join(backends)))
  return backends


def check_spec_for_apis(spec, apis) -> None:
  """Raise a ValueError if ``spec`` asks for what the Keras timing lacks."""
  if ('keras' in apis or 'keras3' in apis) and spec.compare:
    raise ValueError('--compare times the peers in the graph build only: '
                     'use it with --api=slim, or drop it.')
  if 'keras3' in apis and spec.precision != 'fp32':
    raise ValueError('--api=keras3 times the Keras 3 model in fp32 only: '
                     'use --precision=fp32 with it.')


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
  runner.apply_eager_options(spec, stream)
  layer = resnet_keras.ResNetV2(spec.model, peers.NUM_CLASSES,
                                weight_decay=0.0)
  images = tf.Variable(tf.random.uniform(
      [spec.batch_size, spec.image_size, spec.image_size,
       spec_lib.IMAGE_CHANNELS], -1.0, 1.0, seed=0), trainable=False)
  layer(images[:1])
  return keras3_timing.tensorflow_step(
      layer, images, spec.mode == 'forward',
      jit_compile=True if spec.xla else None)


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
        steps[API_NAMES[api]] = runner.session_step(spec, stack)
      else:
        steps[API_NAMES[api]] = keras_step(spec, stream)
    return timing.time_interleaved(timing.CallRunner(), steps, spec.num_batches,
                                   spec.num_burn_in, stream=stream)


def _keras3_rows(spec, backends, stream):
  """The Keras 3 model's ``PeerResult`` on each backend.

  Each ratio is to the graph build's step timed interleaved with it in
  the backend's own process.
  """
  rows = ()
  for backend in backends:
    timings = keras3_timing.time_backend(spec, backend, stream)
    rows += comparison.peer_results(timings, API_NAMES['slim'])[1:]
  return rows


def run_benchmark(spec, apis, peak, stream=None,
                  backends=('tensorflow',)) -> spec_lib.BenchmarkResult:
  """Time ``spec`` in each of ``apis``; a ``BenchmarkResult`` of the first.

  With two APIs, ``peers`` lists them all (the first with ratio 1), each
  with the median ratio of its step time to the first API's in the same
  round; 'keras3' adds a row per backend in ``backends``.
  """
  spec_lib.check_spec(spec)
  check_spec_for_apis(spec, apis)
  here = [api for api in apis if api != 'keras3']
  timings = time_apis(spec, here, stream)
  first = timings[API_NAMES[apis[0]]]
  table = (comparison.peer_results(timings, API_NAMES[apis[0]])
           if len(apis) > 1 else None)
  if 'keras3' in apis:
    table += _keras3_rows(spec, check_backends(backends), stream)
  return runner.benchmark_result(spec, first, peak, table)


def run_sweep(specs, apis, stream=None, backends=('tensorflow',)) -> list:
  """Run every spec in ``apis``; the ``BenchmarkResult`` list.

  ``['slim']`` is the benchmark's usual sweep (``runner.run_sweep``).
  Otherwise each result describes the first API, and with several APIs
  its peers table lists them side by side with the ratio ('keras3' once
  per backend of ``backends``).
  """
  apis = check_apis(apis)
  backends = check_backends(backends)
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
    result = run_benchmark(spec, apis, peaks[key], stream, backends)
    print('Through the %s:\n%s' % (API_NAMES[apis[0]],
                                     report.run_summary(result)),
          file=stream, flush=True)
    if result.peers:
      print('Each API, with its step time over the %s step of the same round '
            '(median):\n%s' % (API_NAMES[apis[0]], report.peers_table(result)),
            file=stream, flush=True)
    results.append(result)
  return results

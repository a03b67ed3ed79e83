"""How fast a model runs forward, or forward and backward, on this machine.

  result = run_benchmark(BenchmarkSpec(model='resnet_v2_50'))
  results = run_sweep(sweep_specs(['resnet_v2_50'], ['forward'], ['fp32']))

One ``run_benchmark`` call builds one graph (a model on a fixed random
batch), times it with the classic protocol of ``timing``, and reports the
speed three ways: seconds per batch, images per second, and GFLOP/s as a
percentage of the machine's matmul peak measured in the same process. With
``compare`` the same graph also holds TF-Slim's reference net and Keras'
net of the same depth on the same input, and their steps are interleaved
with the project's, so all of them see the same machine.

The input batch is a non-trainable variable, not a placeholder: the timed
step then spends its time in the network, not in copying the batch from
Python, which is what the classic TensorFlow benchmarks measured too.
"""

import collections

import tensorflow.compat.v1 as tf

from resnet_v2.benchmark import comparison
from resnet_v2.benchmark import matmul_peak
from resnet_v2.benchmark import peers
from resnet_v2.benchmark import report
from resnet_v2.benchmark import spec as spec_lib
from resnet_v2.benchmark import timing
from resnet_v2.common import precision as precision_lib
from resnet_v2.nets import analysis
from resnet_v2.nets import registry

# What timing lines and tables call the graph build's step.
SESSION_STEP_NAME = 'graph build (Session.run)'


def gflops_per_image(model, image_size, mode):
  """GFLOPs one image costs: ``describe().flops``, tripled for training."""
  flops = analysis.describe(model, image_size, peers.NUM_CLASSES).flops
  if mode == 'forward_backward':
    flops *= spec_lib.FORWARD_BACKWARD_COST
  return flops / 1e9


def benchmark_images(batch_size, image_size, value_range=(-1.0, 1.0)):
  """A ``[batch, size, size, 3]`` non-trainable variable of random pixels.

  The pixels are uniform over ``value_range``, the model's input range.
  """
  pixels = tf.random.uniform(
      [batch_size, image_size, image_size, spec_lib.IMAGE_CHANNELS],
      value_range[0], value_range[1], seed=0)
  return tf.Variable(pixels, trainable=False, name='benchmark_images')


def timed_target(outputs, mode):
  """What one step fetches: the logits, or every gradient of a train step.

  Forward-backward differentiates ``tf.nn.l2_loss(logits)`` (as the
  classic benchmarks do) with respect to every trainable variable and runs
  the batch-norm updates: a train step without the optimizer's cheap
  element-wise update. The gradients are fetched, not grouped under a
  no-op: Grappler prunes stateless ops that only feed control
  dependencies, so a grouped backward pass would silently not run.
  """
  if mode == 'forward':
    return outputs.logits
  gradients = tf.gradients(tf.nn.l2_loss(outputs.logits),
                           outputs.trainable_variables)
  return [gradients, tf.group(*outputs.update_ops)]


def _say(stream, message):
  """Print a progress message and flush it, so it shows while work runs."""
  print(message, file=stream, flush=True)


# Peak measurements further apart than this mean other work was running.
BUSY_SPREAD = 0.10


def measure_peak(spec, stream=None):
  """The ``matmul_peak.PeakResult`` for the spec's precision and threads."""
  size, num_runs = matmul_peak.DEFAULT_SIZE, matmul_peak.DEFAULT_NUM_RUNS
  _say(stream, 'Measuring the %s matmul peak (%dx%d, %d runs)...' % (
      spec.precision, size, size, num_runs))
  peak = matmul_peak.measure_matmul_peak(spec.precision, size, num_runs,
                                         config=spec.session_config())
  _say(stream, 'Peak: %.1f GFLOP/s in %s.' % (peak.gflops, peak.dtype))
  return peak


def _info_string(spec):
  """The name of the timed run in the protocol's summary line."""
  return '%s %s (%s%s, batch %d, %dx%d)' % (
      spec.model, spec.mode.replace('_', '-'), spec.precision,
      ', XLA' if spec.xla else '', spec.batch_size, spec.image_size,
      spec.image_size)


def _build_targets(spec, stream):
  """Build the nets of ``spec`` on one input batch in the default graph.

  Returns ``(targets, project_logits)``: an ordered dict from each net's
  name (the project's first, then its peers under ``compare``) to what a
  step fetches, and the project net's logits.
  """
  contenders = peers.project_and_peers(spec.model)
  if not spec.compare:
    contenders = contenders[:1]
  images = benchmark_images(spec.batch_size, spec.image_size,
                            registry.get_spec(spec.model).inputs.value_range)
  targets = collections.OrderedDict()
  logits = []
  for contender in contenders:
    _say(stream, 'Building %s: %s %s graph...' % (
        contender.name, spec.model, spec.mode.replace('_', '-')))
    outputs = contender.build(spec.model, images,
                              is_training=spec.mode == 'forward_backward')
    logits.append(outputs.logits)
    targets[contender.name] = timed_target(outputs, spec.mode)
  return targets, logits[0]


def _time_targets(session, targets, spec, stream):
  """``(project TimingResult, PeerResults or None)`` for the built targets."""
  _say(stream, 'Timing %d steps after %d burn-in steps...'
       % (spec.num_batches, spec.num_burn_in))
  project_name = next(iter(targets))
  if not spec.compare:
    return timing.time_tensorflow_run(
        session, targets[project_name], _info_string(spec), spec.num_batches,
        spec.num_burn_in, stream=stream), None
  timings = timing.time_interleaved(session, targets, spec.num_batches,
                                    spec.num_burn_in, stream=stream)
  return timings[project_name], comparison.peer_results(timings, project_name)


def _time_spec(spec, stream):
  """Build the spec's graph and time it.

  Returns ``(timing, peer_table, deviation)``: the project's
  ``TimingResult``, the compare table (or None) and the bf16 deviation (or
  None).
  """
  with tf.Graph().as_default():
    targets, project_logits = _build_targets(spec, stream)
    initializer = tf.global_variables_initializer()
    with tf.Session(config=spec.session_config()) as session:
      _say(stream, 'Initialising variables...')
      session.run(initializer)
      deviation = None
      if spec.precision == 'bf16' and spec.mode == 'forward':
        _say(stream, 'Comparing bf16 logits with fp32 on the same weights...')
        deviation = comparison.bf16_deviation(session, project_logits, initializer, spec)
      result, peer_table = _time_targets(session, targets, spec, stream)
  return result, peer_table, deviation


def run_benchmark(spec, peak=None, stream=None):
  """Time ``spec`` and report its speed against the machine's peak.

  Args:
    spec: a ``BenchmarkSpec``.
    peak: a ``matmul_peak.PeakResult`` in the spec's precision, to reuse
      one measurement across runs; measured here when None.
    stream: where progress and timing lines go; stdout when None.

  Returns:
    A ``BenchmarkResult``.

  Raises:
    ValueError: for a bad spec (see ``check_spec``).
  """
  spec_lib.check_spec(spec)
  if peak is None:
    peak = measure_peak(spec, stream)
  result, peer_table, deviation = _time_spec(spec, stream)
  return benchmark_result(spec, result, peak, peer_table, deviation)


def benchmark_result(spec, result, peak, peer_table=None, deviation=None):
  """The ``BenchmarkResult`` of ``spec`` timed as ``result``.

  Args:
    spec: the ``BenchmarkSpec`` that was timed.
    result: its ``timing.TimingResult``.
    peak: the ``matmul_peak.PeakResult`` to report the speed against.
    peer_table: the compare table (``PeerResult`` tuple), or None.
    deviation: the bf16 logits' deviation from fp32, or None.
  """
  per_image = gflops_per_image(spec.model, spec.image_size, spec.mode)
  achieved = per_image * spec.batch_size / result.mean
  # A peak slowed by other work more than the net was is no ceiling; a
  # share above 100% says only that, so it is reported as 100%.
  percent = min(100.0, 100.0 * achieved / peak.gflops)
  return spec_lib.BenchmarkResult(
      model=spec.model, batch_size=spec.batch_size,
      image_size=spec.image_size, mode=spec.mode, precision=spec.precision,
      xla=spec.xla, num_batches=spec.num_batches,
      mean_sec_per_batch=result.mean, sd_sec_per_batch=result.sd,
      median_sec_per_batch=result.median,
      images_per_sec=spec.batch_size / result.mean,
      gflops_per_image=per_image, achieved_gflops=achieved,
      peak_gflops=peak.gflops, percent_of_peak=percent,
      peers=peer_table, bf16_max_relative_deviation=deviation)


def run_sweep(specs, stream=None):
  """``run_benchmark`` every spec; return the ``BenchmarkResult`` list.

  Every spec is checked before anything runs, so a bad one fails fast.
  The matmul peak is measured before the first run of each precision and
  thread setting and again after each run; the faster measurement is the
  peak, since a busy machine slows a measurement and never speeds it up.
  When the two differ by more than ``BUSY_SPREAD`` the summary says the
  machine was busy. After each run its summary (and compare table) is
  printed.
  """
  for spec in specs:
    spec_lib.check_spec(spec)
  peaks = {}
  results = []
  for spec in specs:
    key = (spec.precision, spec.intra_op_threads, spec.inter_op_threads)
    before = peaks.get(key) or measure_peak(spec, stream)
    timed = _time_spec(spec, stream)
    after = measure_peak(spec, stream)
    peaks[key] = max(before, after, key=lambda peak: peak.gflops)
    result = benchmark_result(spec, timed[0], peaks[key], *timed[1:])
    _say(stream, report.run_summary(result))
    spread = abs(before.gflops - after.gflops) / peaks[key].gflops
    if spread > BUSY_SPREAD:
      _say(stream, 'The machine was busy: the matmul peak measured %.1f '
           'GFLOP/s before this run and %.1f after (%.0f%% apart), so its '
           'times and share of the peak are approximate.'
           % (before.gflops, after.gflops, 100 * spread))
    if result.peers:
      _say(stream, report.peers_table(result))
    results.append(result)
  return results


def apply_eager_options(spec, stream):
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
    print('Eager code had already started: the eager step runs with %d '
          'intra-op and %d inter-op threads (0: one per core).' % (
              tf.config.threading.get_intra_op_parallelism_threads(),
              tf.config.threading.get_inter_op_parallelism_threads()),
          file=stream, flush=True)
  tf.config.optimizer.set_experimental_options(
      precision_lib.function_rewrites(config))


def session_step(spec, stack):
  """A zero-argument callable running the graph build's step in a Session.

  The graph is default only while it is built, so the eager code that
  follows stays eager; its session stays open until ``stack`` (an
  ExitStack) closes.
  """
  graph = tf.Graph()
  with graph.as_default():
    images = benchmark_images(spec.batch_size, spec.image_size)
    outputs = peers.build_project_net(
        spec.model, images, is_training=spec.mode == 'forward_backward')
    target = timed_target(outputs, spec.mode)
    initializer = tf.global_variables_initializer()
  # Not entered as a context: that would make the graph the default again.
  session = tf.Session(graph=graph, config=spec.session_config())
  stack.callback(session.close)
  session.run(initializer)
  return lambda: session.run(target)

"""How fast a model runs forward, or forward and backward, on this machine.

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
import statistics

import numpy as np
import tensorflow.compat.v1 as tf

from resnet_v2 import analysis
from resnet_v2 import benchmark_report
from resnet_v2 import matmul_peak
from resnet_v2 import peers
from resnet_v2 import precision as precision_lib
from resnet_v2 import registry
from resnet_v2 import timing

MODES = ('forward', 'forward_backward')

# A backward pass costs two forward passes: one product per layer for the
# gradient of its input and one for the gradient of its weights.
FORWARD_BACKWARD_COST = 3

IMAGE_CHANNELS = 3


class BenchmarkSpec(collections.namedtuple('BenchmarkSpec', [
    'model', 'batch_size', 'image_size', 'mode', 'precision', 'xla',
    'num_batches', 'num_burn_in', 'intra_op_threads', 'inter_op_threads',
    'compare'])):
  """Everything that defines one benchmark run.

  Attributes:
    model: a registered model name.
    batch_size, image_size: the input batch is ``[batch_size, image_size,
      image_size, 3]``.
    mode: 'forward' (logits, inference batch norm) or 'forward_backward'
      (every gradient of an L2 loss on the logits, batch-norm updates).
    precision, xla, intra_op_threads, inter_op_threads: the session
      options, as ``precision.session_config`` takes them.
    num_batches, num_burn_in: timed and untimed steps.
    compare: also time TF-Slim's and Keras' nets of the same depth.

  The defaults are the main job: resnet_v2_50 forward in fp32 at batch 32
  and 224x224, 20 steps after 3 of burn-in, about a minute on two cores.
  One op runs at a time (``inter_op_threads=1``) and each op uses every
  core (``intra_op_threads=0``): a ResNet is a chain of large ops with
  little to run beside them, and two ops at once would only split the
  cores between them (measured 1.5% faster forward on two cores).
  """

  __slots__ = ()

  def __new__(cls, model='resnet_v2_50', batch_size=32, image_size=224,
              mode='forward', precision='fp32', xla=False, num_batches=20,
              num_burn_in=3, intra_op_threads=0, inter_op_threads=1,
              compare=False):
    return super().__new__(cls, model, batch_size, image_size, mode,
                           precision, xla, num_batches, num_burn_in,
                           intra_op_threads, inter_op_threads, compare)

  def session_config(self):
    """The ``ConfigProto`` for this run's precision, XLA and threads."""
    return precision_lib.session_config(
        self.precision, self.xla, self.intra_op_threads,
        self.inter_op_threads)


PeerResult = collections.namedtuple(
    'PeerResult', ['name', 'mean_sec_per_batch', 'median_sec_per_batch',
                   'ratio_to_project'])
PeerResult.__doc__ = """One net's timing in a ``compare`` run.

``ratio_to_project`` is the median, over the interleaved rounds, of the
net's step time divided by the project's step time in the same round:
above 1 the project is faster. A median of paired ratios, because on a
shared machine other work slows whole stretches of rounds, and the odd
single step.
"""


class BenchmarkResult(collections.namedtuple('BenchmarkResult', [
    'model', 'batch_size', 'image_size', 'mode', 'precision', 'xla',
    'num_batches', 'mean_sec_per_batch', 'sd_sec_per_batch',
    'median_sec_per_batch', 'images_per_sec', 'gflops_per_image',
    'achieved_gflops', 'peak_gflops', 'percent_of_peak', 'peers',
    'bf16_max_relative_deviation'])):
  """What one ``run_benchmark`` measured.

  ``images_per_sec`` and ``achieved_gflops`` come from the mean seconds per
  batch; ``gflops_per_image`` counts convolutions and logits with a
  multiply-add as 2 FLOPs (times 3 for forward-backward); ``peers`` is None
  unless compared; ``bf16_max_relative_deviation`` compares the inference
  logits of a bf16 forward run with fp32 and is None otherwise (training
  logits depend on the statistics of the batch at hand).
  """

  __slots__ = ()

  def to_json(self):
    """A JSON-ready dict; peers and the bf16 deviation only when measured."""
    record = self._asdict()
    if self.peers is None:
      del record['peers']
    else:
      record['peers'] = [peer._asdict() for peer in self.peers]
    if self.bf16_max_relative_deviation is None:
      del record['bf16_max_relative_deviation']
    return record


def check_spec(spec):
  """Raise a ValueError (one sentence saying what works) for a bad spec.

  Checks the session options first (with XLA, they must reach TensorFlow
  before the precision check sets up its devices), then the model name,
  the counts, that the image is at least as large as the model's output
  stride, the mode, and that this machine runs the precision natively.
  """
  spec.session_config()
  registry.get_spec(spec.model)
  timing.check_count('batch_size', spec.batch_size, 1)
  timing.check_count('num_batches', spec.num_batches, 1)
  timing.check_count('num_burn_in', spec.num_burn_in, 0)
  timing.check_count('image_size', spec.image_size, 1)
  analysis.check_image_size(spec.model, spec.image_size)
  if spec.mode not in MODES:
    raise ValueError('mode must be one of %s; got %r.'
                     % (', '.join(MODES), spec.mode))
  precision_lib.check_precision_supported(spec.precision)


def gflops_per_image(model, image_size, mode):
  """GFLOPs one image costs: ``describe().flops``, tripled for training."""
  flops = analysis.describe(model, image_size, peers.NUM_CLASSES).flops
  if mode == 'forward_backward':
    flops *= FORWARD_BACKWARD_COST
  return flops / 1e9


def benchmark_images(batch_size, image_size):
  """A ``[batch, size, size, 3]`` non-trainable variable of random pixels."""
  pixels = tf.random.uniform(
      [batch_size, image_size, image_size, IMAGE_CHANNELS], -1.0, 1.0,
      seed=0)
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


def measure_peak(spec, stream=None):
  """The ``matmul_peak.PeakResult`` for the spec's precision and threads."""
  size, num_runs = matmul_peak.DEFAULT_SIZE, matmul_peak.DEFAULT_NUM_RUNS
  _say(stream, 'Measuring the %s matmul peak (%dx%d, %d runs)...' % (
      spec.precision, size, size, num_runs))
  peak = matmul_peak.measure_matmul_peak(spec.precision, size, num_runs,
                                         config=spec.session_config())
  _say(stream, 'Peak: %.1f GFLOP/s in %s.' % (peak.gflops, peak.dtype))
  return peak


def max_relative_deviation(values, reference):
  """``max |values - reference| / max |reference|`` (0 if reference is 0).

  Relative to the largest reference value rather than element by element,
  so logits near zero do not turn a tiny absolute error into a huge ratio.
  """
  scale = float(np.max(np.abs(reference)))
  if scale == 0.0:
    return 0.0
  return float(np.max(np.abs(values - reference))) / scale


def bf16_deviation(session, logits, initializer, spec):
  """Largest relative deviation of ``logits`` in ``session`` from fp32.

  ``session`` runs the bf16 rewrite; a second session on the same graph,
  in fp32 with otherwise the same options, runs ``initializer`` (the
  graph's variable initializer) with the first session's variable values
  fed in, so both runs see the same weights and input batch and differ
  only in precision.
  """
  variables = tf.global_variables()
  values = session.run(variables)
  reduced = session.run(logits)
  initial_values = {variable.initializer.inputs[1]: value
                    for variable, value in zip(variables, values)}
  fp32_config = spec._replace(precision='fp32').session_config()
  with tf.Session(config=fp32_config) as fp32_session:
    fp32_session.run(initializer, feed_dict=initial_values)
    full = fp32_session.run(logits)
  return max_relative_deviation(reduced, full)


def peer_results(timings, project_name):
  """``PeerResult`` for every timed net, the project's first.

  The ratio is the median of the step-by-step ratios: a net's step and the
  project's step of the same interleaved round saw the same machine, so
  pairing them cancels drift that a ratio of two medians would keep.
  """
  project = timings[project_name].durations
  return tuple(
      PeerResult(name, result.mean, result.median, statistics.median(
          peer / ours for peer, ours in zip(result.durations, project)))
      for name, result in timings.items())


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
  images = benchmark_images(spec.batch_size, spec.image_size)
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
  return timings[project_name], peer_results(timings, project_name)


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
        deviation = bf16_deviation(session, project_logits, initializer, spec)
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
  check_spec(spec)
  if peak is None:
    peak = measure_peak(spec, stream)
  result, peer_table, deviation = _time_spec(spec, stream)
  per_image = gflops_per_image(spec.model, spec.image_size, spec.mode)
  achieved = per_image * spec.batch_size / result.mean
  return BenchmarkResult(
      model=spec.model, batch_size=spec.batch_size,
      image_size=spec.image_size, mode=spec.mode, precision=spec.precision,
      xla=spec.xla, num_batches=spec.num_batches,
      mean_sec_per_batch=result.mean, sd_sec_per_batch=result.sd,
      median_sec_per_batch=result.median,
      images_per_sec=spec.batch_size / result.mean,
      gflops_per_image=per_image, achieved_gflops=achieved,
      peak_gflops=peak.gflops, percent_of_peak=100.0 * achieved / peak.gflops,
      peers=peer_table, bf16_max_relative_deviation=deviation)


def sweep_specs(models, modes, precisions, **options):
  """One ``BenchmarkSpec`` per model, precision and mode, in that nesting.

  ``options`` are the ``BenchmarkSpec`` fields shared by every run (batch
  size, image size, counts, threads, XLA, compare).
  """
  return [BenchmarkSpec(model=model, mode=mode, precision=precision,
                        **options)
          for model in models for precision in precisions for mode in modes]


def run_sweep(specs, stream=None):
  """``run_benchmark`` every spec; return the ``BenchmarkResult`` list.

  Every spec is checked before anything runs, so a bad one fails fast; the
  matmul peak is measured once per precision and thread setting, not once
  per run. After each run its summary (and compare table) is printed.
  """
  for spec in specs:
    check_spec(spec)
  peaks = {}
  results = []
  for spec in specs:
    key = (spec.precision, spec.intra_op_threads, spec.inter_op_threads)
    if key not in peaks:
      peaks[key] = measure_peak(spec, stream)
    result = run_benchmark(spec, peaks[key], stream)
    _say(stream, benchmark_report.run_summary(result))
    if result.peers:
      _say(stream, benchmark_report.peers_table(result))
    results.append(result)
  return results

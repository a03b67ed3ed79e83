"""What one benchmark run is and what it measured: the spec and result records.

  spec = BenchmarkSpec(model='resnet_v2_50', batch_size=32, mode='forward')
  check_spec(spec)          # ValueError saying what works
  specs = sweep_specs(['resnet_v2_50', 'resnet_v2_101'], ['forward'],
                      ['fp32', 'bf16'])
"""

import collections

from resnet_v2.common import checks
from resnet_v2.common import precision as precision_lib
from resnet_v2.nets import analysis
from resnet_v2.nets import registry

MODES = ('forward', 'forward_backward')

# The main job, and the input size its model was trained at.
DEFAULT_MODEL = 'resnet_v2_50'
DEFAULT_IMAGE_SIZE = registry.get_spec(DEFAULT_MODEL).inputs.image_size

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

  def __new__(cls, model=DEFAULT_MODEL, batch_size=32,
              image_size=DEFAULT_IMAGE_SIZE,
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
  checks.check_count('batch_size', spec.batch_size, 1)
  checks.check_count('num_batches', spec.num_batches, 1)
  checks.check_count('num_burn_in', spec.num_burn_in, 0)
  analysis.check_image_size(spec.model, spec.image_size)
  if spec.mode not in MODES:
    raise ValueError('mode must be one of %s; got %r.'
                     % (', '.join(MODES), spec.mode))
  precision_lib.check_precision_supported(spec.precision)


def sweep_specs(models, modes, precisions, **options):
  """One ``BenchmarkSpec`` per model, precision and mode, in that nesting.

  ``options`` are the ``BenchmarkSpec`` fields shared by every run (batch
  size, image size, counts, threads, XLA, compare).
  """
  return [BenchmarkSpec(model=model, mode=mode, precision=precision,
                        **options)
          for model in models for precision in precisions for mode in modes]

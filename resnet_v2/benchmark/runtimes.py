"""Time the deployment runtimes side by side on one net and one batch.

  results, skipped = run_runtimes('resnet_v2_50', ['tf', 'openvino'],
                                  ['fp32', 'int8'], batch_size=32)
  print(runtime_report.table(results))

Each runtime and precision gets the same frozen net (random weights, or a
run's checkpoint), exported the way ``python -m resnet_v2.export`` does,
and the same batch of preprocessed images. Every one runs with as many
threads as the machine has cores (TensorFlow ``intra_op_parallelism`` with
one op at a time, ONNX Runtime ``intra_op_num_threads``, OpenVINO
``INFERENCE_NUM_THREADS``, LiteRT ``num_threads``), so none looks fast or
slow because of its own defaults. All are exported first, then timed in
turn, one run of each per step, at the batch size (throughput) and at
batch 1 (latency); TensorFlow fp32 is always among them as the baseline
that the speedups and the logit deviations are measured against. int8
calibrates on random images: its speed does not depend on them, its
accuracy does (``python -m resnet_v2.evaluate --model_path`` measures that).
"""

import collections
import os
import statistics
import sys
import tempfile
import time

import numpy as np

from resnet_v2.common import checks
from resnet_v2.deploy import calibration
from resnet_v2.deploy import engines
from resnet_v2.deploy import formats
from resnet_v2.deploy import frozen
from resnet_v2.deploy import held_output
from resnet_v2.nets import analysis
from resnet_v2.nets import registry
from resnet_v2.training import run_dir

BASELINE = ('tf', 'fp32')
DEFAULT_CALIBRATION_IMAGES = 32
JSON_KEYS = ('runtime', 'precision', 'batch_size', 'median_sec_per_batch',
             'images_per_sec', 'latency_ms_batch1', 'speedup_vs_tf_fp32',
             'max_relative_deviation')


class RuntimeResult(collections.namedtuple('RuntimeResult', JSON_KEYS)):
  """One runtime at one precision: speed, and logits against TF fp32.

  ``max_relative_deviation`` is the largest absolute difference of the
  logits from TensorFlow fp32's on the same batch, relative to the
  largest absolute TensorFlow logit.
  """

  __slots__ = ()

  def to_json(self):
    """The result as a JSON-ready dict with the keys ``JSON_KEYS``."""
    return dict(self._asdict())


def _check_precision(precision):
  """Raise unless ``precision`` is one of ``formats.PRECISIONS``."""
  if precision not in formats.PRECISIONS:
    raise ValueError('--precision must name some of %s; got %r.'
                     % (', '.join(formats.PRECISIONS), precision))


def _runs_here(runtime, precision):
  """Raise unless this machine can run ``runtime`` at ``precision``."""
  spec = formats.format_for_runtime(runtime)
  try:
    formats.check_supported(spec.name, precision)
  except ValueError as error:
    raise ValueError('--runtime=%s --precision=%s cannot run here: %s'
                     % (runtime, precision, error)) from None


def plan(runtimes, precisions):
  """The ``(runtime, precision)`` pairs to time, and why others are skipped.

  TensorFlow fp32 comes first whether asked for or not: it is the
  baseline. A combination a runtime lacks is skipped with a message, as
  long as each runtime asked for times at least one precision asked for;
  a precision this machine cannot run (bf16 on a CPU without it) is an
  error, not a skip, since timing only the rest would answer another
  question than the one asked.

  Returns:
    ``(pairs, skipped)``: a list of pairs and a list of messages.

  Raises:
    ValueError: for an unknown runtime or precision, a runtime that is not
      installed, one that would time none of the precisions asked, or a
      precision this machine cannot run.
  """
  if not runtimes:
    raise ValueError('--runtime needs at least one of %s.'
                     % ', '.join(formats.RUNTIMES))
  for precision in precisions:
    _check_precision(precision)
  pairs, skipped = [BASELINE], []
  for runtime in runtimes:
    spec = formats.format_for_runtime(runtime)
    formats.require_runtime(spec)
    runnable = [p for p in precisions if p in spec.precisions]
    if not runnable:
      raise ValueError('--runtime=%s --precision=%s times nothing: %s runs '
                       '%s.' % (runtime, ','.join(precisions), runtime,
                                ', '.join(spec.precisions)))
    skipped += ['skipped %s %s: %s runs %s.' % (
        runtime, precision, runtime, ', '.join(spec.precisions))
                for precision in precisions if precision not in runnable]
    for precision in runnable:
      _runs_here(runtime, precision)
      if (runtime, precision) not in pairs:
        pairs.append((runtime, precision))
  return pairs, skipped


def _engine(runtime, precision, net, calibration_set, scratch, threads):
  """An engine of ``net`` on ``runtime`` at ``precision``, exported first."""
  if runtime == 'tf':
    return frozen.TensorFlowEngine(net, precision, threads)
  format_name = formats.format_for_runtime(runtime).name
  directory = os.path.join(scratch, '%s_%s' % (format_name, precision))
  os.makedirs(directory)
  with held_output.held_back():
    engines.convert(format_name, net, precision,
                    calibration_set if precision == 'int8' else None,
                    directory)
  return engines.open_engine(format_name, directory, precision, threads)


def _interleaved_medians(engines_by_kind, images, num_batches, num_burn_in):
  """The median seconds of each engine's ``run(images)``, timed in turn.

  One run of each engine in turn per step, the order rotating every step,
  so that a change in the machine's load over the minutes of a run hits
  every runtime alike instead of the ones that happen to run last.
  """
  kinds = list(engines_by_kind)
  for _ in range(num_burn_in):
    for kind in kinds:
      engines_by_kind[kind].run(images)
  durations = {kind: [] for kind in kinds}
  for step in range(num_batches):
    shift = step % len(kinds)
    for kind in kinds[shift:] + kinds[:shift]:
      start = time.perf_counter()
      engines_by_kind[kind].run(images)
      durations[kind].append(time.perf_counter() - start)
  return {kind: statistics.median(durations[kind]) for kind in kinds}


def _export_all(pairs, net, calibration_set, scratch, threads, stream):
  """An engine for each ``(runtime, precision)`` pair, in order."""
  engines_by_kind = {}
  for runtime, precision in pairs:
    print('exporting %s %s' % (runtime, precision), file=stream, flush=True)
    engines_by_kind[runtime, precision] = _engine(
        runtime, precision, net, calibration_set, scratch, threads)
  return engines_by_kind


def _result(kind, batch_size, seconds, latency, logits):
  """The ``RuntimeResult`` of ``kind`` from the per-kind measurements."""
  runtime, precision = kind
  reference = logits[BASELINE]
  deviation = (np.max(np.abs(logits[kind] - reference)) /
               np.max(np.abs(reference)))
  return RuntimeResult(runtime, precision, batch_size, seconds[kind],
                       batch_size / seconds[kind], 1000.0 * latency[kind],
                       seconds[BASELINE] / seconds[kind], float(deviation))


def _net(model, image_size, train_dir):
  """``(frozen net, value range)``: a run's checkpoint or random weights."""
  if train_dir:
    trained = run_dir.open_run(train_dir)
    return frozen.freeze_run(trained), trained.value_range
  return (frozen.freeze_random(model, image_size),
          registry.get_spec(model).inputs.value_range)


def check_arguments(model, batch_size, image_size, num_batches, num_burn_in,
                    calibration_images):
  """Raise a ValueError for a bad argument of ``run_runtimes``, up front."""
  registry.get_spec(model)
  checks.check_count('batch_size', batch_size, 1)
  analysis.check_image_size(model, image_size)
  checks.check_count('num_batches', num_batches, 1)
  checks.check_count('num_burn_in', num_burn_in, 0)
  checks.check_count('calibration_images', calibration_images, 1)


def run_runtimes(model, runtimes, precisions, batch_size=32, image_size=224,
                 num_batches=10, num_burn_in=2,
                 calibration_images=DEFAULT_CALIBRATION_IMAGES,
                 train_dir=None, stream=None):
  """Export ``model`` to each runtime and precision and time each.

  Args:
    model: a registered model name (ignored with ``train_dir``).
    runtimes: names among ``formats.RUNTIMES``.
    precisions: names among ``formats.PRECISIONS``.
    batch_size: images per timed batch (throughput).
    image_size: side of the square input (ignored with ``train_dir``).
    num_batches, num_burn_in: timed and untimed runs, at the batch size
      and again at batch 1.
    calibration_images: random images int8 calibrates on.
    train_dir: time this run's checkpoint instead of random weights.
    stream: where progress goes; ``sys.stdout`` when None.

  Returns:
    ``(results, skipped)``: ``RuntimeResult`` values, TensorFlow fp32
    first, and messages for the combinations left out.
  """
  stream = sys.stdout if stream is None else stream
  check_arguments(model, batch_size, image_size, num_batches, num_burn_in,
                  calibration_images)
  pairs, skipped = plan(runtimes, precisions)
  for message in skipped:
    print(message, file=stream, flush=True)
  net, value_range = _net(model, image_size, train_dir)
  images = calibration.random_images(batch_size, net.image_size, value_range,
                                     seed=1)
  calibration_set = calibration.random_images(
      calibration_images, net.image_size, value_range, seed=2)
  threads = formats.session_threads()
  print('every runtime runs on %d threads (the cores of this machine)'
        % threads, file=stream, flush=True)
  with tempfile.TemporaryDirectory() as scratch:
    engines_by_kind = _export_all(pairs, net, calibration_set, scratch,
                                  threads, stream)
    print('timing', file=stream, flush=True)
    logits = {kind: engine.run(images)
              for kind, engine in engines_by_kind.items()}
    seconds = _interleaved_medians(engines_by_kind, images, num_batches,
                                   num_burn_in)
    latency = _interleaved_medians(engines_by_kind, images[:1], num_batches,
                                   num_burn_in)
  return [_result(kind, batch_size, seconds, latency, logits)
          for kind in pairs], skipped

r"""Time ResNet v2 forward and forward-backward passes on this machine.

The default run times resnet_v2_50 forward in fp32 at batch 32, 224x224,
and reports seconds per batch, images/sec and the fraction of the machine's
matmul peak it reaches (about a minute on a 2-core CPU):

  python benchmarks/time_resnet_v2.py

The classic protocol of TensorFlow's original benchmarks:

  python benchmarks/time_resnet_v2.py --model=resnet_v2_152 \
      --num_batches=100 --num_burn_in=10

Side by side with TF-Slim's reference and Keras' ResNet50V2, in bf16 too:

  python benchmarks/time_resnet_v2.py --compare --precision=fp32,bf16

The Keras layer (resnet_v2.tf_keras.ResNetV2 in a tf.function) against the
graph build, forward and forward-backward, interleaved in one run:

  python benchmarks/time_resnet_v2.py --api=slim,keras --mode=both

The Keras 3 model on each backend, each against the graph build in a
process of its own (XLA for TensorFlow, jax.jit, eager PyTorch):

  python benchmarks/time_resnet_v2.py --api=slim,keras3 --mode=both \
      --backend=tensorflow,jax,torch

The deployment runtimes, each exported at each precision it supports and
timed at the batch size and at batch 1 (see resnet_v2.benchmark.runtimes):

  python benchmarks/time_resnet_v2.py --num_batches=10 \
      --runtime=tf,onnxruntime,openvino,litert --precision=fp32,bf16,int8
"""

import sys

from absl import flags

from resnet_v2.common import cli  # first: the log settings precede TensorFlow
from resnet_v2.benchmark import keras_timing
from resnet_v2.benchmark import plot
from resnet_v2.benchmark import report
from resnet_v2.benchmark import runtime_report
from resnet_v2.benchmark import runtimes
from resnet_v2.benchmark import spec as spec_lib

PROGRAM = 'time_resnet_v2'

# The flags live in their own FlagValues, not absl's global one, so that
# this module can be imported next to other command-line modules (as the
# tests do) even where they define flags of the same names.
FLAGS = flags.FlagValues()
DEFAULTS = spec_lib.BenchmarkSpec()

flags.DEFINE_string(
    'model', DEFAULTS.model,
    'The model to time: any name in resnet_v2.list_models().',
    flag_values=FLAGS)
flags.DEFINE_list(
    'depths', [],
    'Comma list of models to sweep instead of --model, e.g. '
    'resnet_v2_50,resnet_v2_101,resnet_v2_152.', flag_values=FLAGS)
flags.DEFINE_integer('batch_size', DEFAULTS.batch_size, 'Images per batch.',
                     flag_values=FLAGS)
flags.DEFINE_integer('image_size', DEFAULTS.image_size,
                     'Height and width of the images.', flag_values=FLAGS)
flags.DEFINE_integer('num_batches', DEFAULTS.num_batches,
                     'Timed steps per run.', flag_values=FLAGS)
flags.DEFINE_integer(
    'num_burn_in', DEFAULTS.num_burn_in,
    'Untimed steps before them (graph optimisation, allocation and warm '
    'caches).', flag_values=FLAGS)
flags.DEFINE_string(
    'mode', DEFAULTS.mode,
    'forward (logits, inference batch norm), forward_backward (gradients of '
    'an L2 loss on the logits and batch-norm updates) or both.',
    flag_values=FLAGS)
cli.define_precision_flag(FLAGS, several=True)
flags.DEFINE_bool('xla', DEFAULTS.xla, 'Compile the graph with XLA.',
                  flag_values=FLAGS)
flags.DEFINE_integer('intra_op_threads', DEFAULTS.intra_op_threads,
                     'Threads per op; 0 lets TensorFlow use every core.',
                     flag_values=FLAGS)
flags.DEFINE_integer('inter_op_threads', DEFAULTS.inter_op_threads,
                     'Ops run at once; 0 lets TensorFlow decide (one per '
                     'core), which splits the cores between ops.',
                     flag_values=FLAGS)
flags.DEFINE_bool(
    'compare', DEFAULTS.compare,
    "Also time TF-Slim's reference and Keras' net of the same depth on the "
    'same input, interleaved with this one.', flag_values=FLAGS)
flags.DEFINE_list(
    'api', ['slim'],
    'How the net runs: slim (the graph build, stepped by Session.run), keras '
    '(the layer resnet_v2.tf_keras.ResNetV2, stepped by a tf.function), '
    'keras3 (the Keras 3 model resnet_v2.keras.ResNetV2 on each --backend), '
    'or a comma list such as slim,keras,keras3 to time them side by side, '
    'interleaved, with the ratio.', flag_values=FLAGS)
flags.DEFINE_list(
    'backend', ['tensorflow'],
    'With --api=slim,keras3: the Keras backends to time, each in a process '
    'of its own against the graph build there: a comma list of tensorflow, '
    'jax, torch.', flag_values=FLAGS)
flags.DEFINE_string(
    'json_out', None,
    'Write the results as JSON to this path: one object for one run, '
    '{"runs": [...]} for several.', flag_values=FLAGS)
flags.DEFINE_string(
    'plot_out', None,
    'Write a PNG bar chart of images/sec by model and precision to this '
    'path (needs matplotlib).', flag_values=FLAGS)

flags.DEFINE_list(
    'runtime', [],
    'Time deployment runtimes instead: a comma list of tf, onnxruntime, '
    'openvino, litert; --precision may then also name int8.',
    flag_values=FLAGS)
flags.DEFINE_integer(
    'calibration_images', runtimes.DEFAULT_CALIBRATION_IMAGES,
    'With --runtime: random images int8 calibrates on.', flag_values=FLAGS)
flags.DEFINE_string(
    'train_dir', None,
    "With --runtime: time this training run's checkpoint instead of random "
    'weights.', flag_values=FLAGS)


def parse_flags(argv):
  """Parse ``argv`` into ``FLAGS``; help on request, one line on a bad flag."""
  return cli.parse(FLAGS, argv, __doc__, PROGRAM)


def _modes(mode):
  """The modes ``--mode`` names; ValueError for anything else."""
  if mode == 'both':
    return list(spec_lib.MODES)
  if mode in spec_lib.MODES:
    return [mode]
  raise ValueError('--mode must be forward, forward_backward or both; got %r.'
                   % mode)


def specs_from_flags():
  """The ``BenchmarkSpec`` list the flags ask for, checked up front."""
  specs = spec_lib.sweep_specs(
      FLAGS.depths or [FLAGS.model], _modes(FLAGS.mode), FLAGS.precision,
      batch_size=FLAGS.batch_size, image_size=FLAGS.image_size,
      xla=FLAGS.xla, num_batches=FLAGS.num_batches,
      num_burn_in=FLAGS.num_burn_in, intra_op_threads=FLAGS.intra_op_threads,
      inter_op_threads=FLAGS.inter_op_threads, compare=FLAGS.compare)
  apis = keras_timing.check_apis(FLAGS.api)
  keras_timing.check_backends(FLAGS.backend)
  for spec in specs:
    keras_timing.check_spec_for_apis(spec, apis)
    spec_lib.check_spec(spec)
  _check_outputs()
  return specs


def _check_outputs():
  """Raise a ValueError if --json_out or --plot_out cannot be written."""
  if FLAGS.json_out:
    report.check_writable(FLAGS.json_out, '--json_out')
  if FLAGS.plot_out:
    report.check_writable(FLAGS.plot_out, '--plot_out')
    plot.check_plotting_available()


def time_runtimes():
  """The --runtime benchmark: time, print the table, save what was asked."""
  with cli.errors_as_usage(PROGRAM):
    runtimes.check_arguments(FLAGS.model, FLAGS.batch_size, FLAGS.image_size,
                             FLAGS.num_batches, FLAGS.num_burn_in,
                             FLAGS.calibration_images)
    runtimes.plan(FLAGS.runtime, FLAGS.precision)
    _check_outputs()
  results, skipped = runtimes.run_runtimes(
      FLAGS.model, FLAGS.runtime, FLAGS.precision,
      batch_size=FLAGS.batch_size, image_size=FLAGS.image_size,
      num_batches=FLAGS.num_batches, num_burn_in=FLAGS.num_burn_in,
      calibration_images=FLAGS.calibration_images, train_dir=FLAGS.train_dir)
  print()
  print(runtime_report.table(results))
  for message in skipped:
    print(message)
  _save(results, runtime_report.write_json, runtime_report.plot)
  return results


def _save(results, write_json, draw):
  """Write --json_out and --plot_out (whichever were given) and say so."""
  for path, write in ((FLAGS.json_out, write_json), (FLAGS.plot_out, draw)):
    if path:
      write(results, path)
      print('Wrote %s' % path)


def main(argv):
  """Run the benchmark the flags describe; print, and save what was asked."""
  del argv  # Every option is a flag; parse_flags refused anything else.
  cli.quiet_logs()
  if FLAGS.runtime:
    return time_runtimes()
  with cli.errors_as_usage(PROGRAM):
    specs = specs_from_flags()
  results = keras_timing.run_sweep(specs, FLAGS.api, backends=FLAGS.backend)
  print()
  print(report.sweep_table(results))
  _save(results, report.write_json, plot.plot_images_per_sec)
  return results


if __name__ == '__main__':
  main(parse_flags(sys.argv))

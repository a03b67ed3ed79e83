"""Train a ResNet on a folder of images: ``python -m resnet_v2.train``.

  python -m resnet_v2.train --data_dir=photos --train_dir=runs/photos \\
      --model=resnet_v2_18 --image_size=64 --epochs=30 --validation_split=0.2

Rerunning the same command after Ctrl-C (or ``kill``) resumes from the
last checkpoint. To fine-tune a released checkpoint with another class
count, add ``--checkpoint_path=resnet_v2_50.ckpt
--checkpoint_exclude_scopes=resnet_v2_50/logits`` (and
``--trainable_scopes=resnet_v2_50/logits`` to train only the new head).
"""

import dataclasses
import os

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')

from absl import flags  # noqa: E402

from resnet_v2 import command_line  # noqa: E402
from resnet_v2 import evaluation  # noqa: E402
from resnet_v2 import interrupts  # noqa: E402
from resnet_v2 import preprocessing  # noqa: E402
from resnet_v2 import registry  # noqa: E402
from resnet_v2 import training  # noqa: E402

FLAGS = flags.FlagValues()

flags.DEFINE_string('data_dir', None,
                    'Folder with one subfolder of images (PNG/JPEG) per class.',
                    flag_values=FLAGS)
flags.DEFINE_string('train_dir', None,
                    'Folder for checkpoints, TensorBoard events and run.json.',
                    flag_values=FLAGS)
flags.DEFINE_enum('model', 'resnet_v2_50', registry.list_models(),
                  'Registered model to train.', flag_values=FLAGS)
flags.DEFINE_integer('image_size', None,
                     'Side of the square network input; default: the '
                     "model's (224).", flag_values=FLAGS)
flags.DEFINE_integer('batch_size', 32, 'Images per training step.',
                     flag_values=FLAGS)
flags.DEFINE_integer('max_steps', None, 'Steps to train (or use --epochs).',
                     flag_values=FLAGS)
flags.DEFINE_float('epochs', None, 'Passes over the training images.',
                   flag_values=FLAGS)
flags.DEFINE_float('learning_rate', 0.05, 'Initial learning rate.',
                   flag_values=FLAGS)
flags.DEFINE_enum('lr_schedule', 'cosine', training.LR_SCHEDULES,
                  'cosine: decay to 0; step: /10 at 50% and 75%; constant.',
                  flag_values=FLAGS)
flags.DEFINE_integer('warmup_steps', 0, 'Linear learning-rate warm-up steps.',
                     flag_values=FLAGS)
flags.DEFINE_float('momentum', 0.9, 'Momentum of SGD.', flag_values=FLAGS)
flags.DEFINE_float('weight_decay', 1e-4, 'L2 penalty on the conv weights.',
                   flag_values=FLAGS)
flags.DEFINE_float('batch_norm_decay', 0.997,
                   'Decay of the batch-norm moving averages; use about 0.9 '
                   'for runs of a few hundred steps.', flag_values=FLAGS)
flags.DEFINE_float('validation_split', 0.0,
                   'Fraction of every class held out for validation.',
                   flag_values=FLAGS)
flags.DEFINE_integer('seed', 0, 'Fixes the split, data order and crops.',
                     flag_values=FLAGS)
flags.DEFINE_float('min_crop_area', preprocessing.DEFAULT_MIN_CROP_AREA,
                   'Smallest image fraction a random crop keeps (1: no crop).',
                   flag_values=FLAGS)
flags.DEFINE_boolean('flip', True, 'Random left-right flips.',
                     flag_values=FLAGS)
flags.DEFINE_boolean('color_jitter', False,
                     'Random brightness, saturation, hue and contrast.',
                     flag_values=FLAGS)
flags.DEFINE_float('central_fraction', preprocessing.DEFAULT_CENTRAL_FRACTION,
                   'Central crop used at evaluation and export.',
                   flag_values=FLAGS)
flags.DEFINE_string('checkpoint_path', None,
                    'Checkpoint (prefix or folder) to fine-tune from.',
                    flag_values=FLAGS)
flags.DEFINE_list('checkpoint_exclude_scopes', [],
                  'Comma-separated scopes not restored from checkpoint_path.',
                  flag_values=FLAGS)
flags.DEFINE_list('trainable_scopes', [],
                  'Comma-separated scopes to train; default: all.',
                  flag_values=FLAGS)
flags.DEFINE_integer('save_every', 500, 'Steps between checkpoints.',
                     flag_values=FLAGS)
flags.DEFINE_integer('log_every', 50, 'Steps between log lines.',
                     flag_values=FLAGS)
command_line.define_data_flags(FLAGS)
flags.mark_flags_as_required(['data_dir', 'train_dir'], flag_values=FLAGS)


def main():
  """Train, then score the validation split if there is one."""
  options = training.TrainOptions(**{
      field.name: FLAGS[field.name].value
      for field in dataclasses.fields(training.TrainOptions)})
  result = training.train(options)
  if result.interrupted:
    return interrupts.exit_status(result.interrupted)
  if options.validation_split:
    scores = evaluation.evaluate(options.train_dir, options.data_dir,
                                 subset='validation',
                                 precision=options.precision)
    print('validation top-1 accuracy: %.4f (%d images)'
          % (scores.top1, scores.num_images))
  return 0


if __name__ == '__main__':
  command_line.run(main, FLAGS, __doc__)

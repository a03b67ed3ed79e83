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

from absl import flags

from resnet_v2.common import cli  # first: the log settings precede TensorFlow
from resnet_v2.training import evaluation
from resnet_v2.training import interrupts
from resnet_v2.training import loop
from resnet_v2.training import options as options_lib
from resnet_v2.training import run_dir

FLAGS = flags.FlagValues()
cli.define_dataclass_flags(FLAGS, options_lib.TrainOptions)
flags.mark_flags_as_required(['data_dir', 'train_dir'], flag_values=FLAGS)


def main():
  """Train, then score the validation split if there is one."""
  options = options_lib.TrainOptions(**{
      field.name: FLAGS[field.name].value
      for field in dataclasses.fields(options_lib.TrainOptions)})
  result = loop.train(options)
  print('weights fingerprint: %s' % result.fingerprint)
  if result.interrupted:
    return interrupts.exit_status(result.interrupted)
  if result.validation is not None:
    scores = evaluation.evaluate_folder(
        run_dir.open_run(options.train_dir), result.validation,
        precision=options.precision)
    print('validation top-1 accuracy: %.4f (%d images)'
          % (scores.top1, scores.num_images))
  return 0


if __name__ == '__main__':
  cli.run(main, FLAGS, __doc__)

"""The checkpoint checks' advice, respelt for a Python caller.

  flags_as_arguments('... pass --checkpoint_exclude_scopes=a/logits')
  # "... pass exclude_scopes=['a/logits']"

The checks in ``resnet_v2.nets.checkpoints`` speak the trainer's flags;
``load_slim_checkpoint`` (of the tf-keras layer and of the Keras 3 model)
takes the same choices as function arguments.
"""

import re


def flags_as_arguments(message: str) -> str:
  """``message`` with the trainer's flags spelled as keyword arguments."""
  message = re.sub(
      r'--checkpoint_exclude_scopes=(\S+)',
      lambda match: 'exclude_scopes=%r' % match.group(1).split(','), message)
  return message.replace('--checkpoint_exclude_scopes', 'exclude_scopes') \
      .replace('--model ', 'model_name ')

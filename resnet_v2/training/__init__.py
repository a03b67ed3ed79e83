"""Training, evaluating and exporting a model on an image folder.

  result = training.train(training.TrainOptions(
      data_dir='photos', train_dir='runs/photos', model='resnet_v2_18',
      max_steps=1000))
  scores = training.evaluate('runs/photos', 'photos')
  training.export_saved_model('runs/photos', 'models/photos')
"""

from resnet_v2.nets.checkpoints import CheckpointMismatchError
from resnet_v2.training.evaluation import EvalResult
from resnet_v2.training.evaluation import evaluate
from resnet_v2.training.loop import train
from resnet_v2.training.options import DIGITS_RECIPE
from resnet_v2.training.options import digits_train_options
from resnet_v2.training.options import steps_for
from resnet_v2.training.options import TrainOptions
from resnet_v2.training.options import TrainResult
from resnet_v2.training.run_dir import open_run
from resnet_v2.training.run_dir import TrainedRun
from resnet_v2.training.saved_model import export_saved_model
from resnet_v2.training.schedule import learning_rate
from resnet_v2.training.schedule import LR_SCHEDULES

__all__ = [
    'CheckpointMismatchError', 'DIGITS_RECIPE', 'EvalResult', 'LR_SCHEDULES',
    'TrainOptions', 'TrainResult', 'TrainedRun',
    'digits_train_options', 'evaluate', 'export_saved_model',
    'learning_rate', 'open_run', 'steps_for', 'train',
]

"""A net's float32 inference graph with its weights folded in as constants.

  net = freeze_run(open_run('runs/photos'))          # a trained checkpoint
  net = freeze_random('resnet_v2_50', 224)            # random weights
  logits = run_graph(net, images)                     # TensorFlow, fp32

Every converter starts from this graph: input ``images`` (float32
``[batch, size, size, 3]``, already preprocessed to the model's value
range), output ``logits``. Preprocessing stays outside it, in the
predictor, so the runtimes see only the convolutions they are fast at.
"""

import collections

import numpy as np
import tensorflow.compat.v1 as tf
import tf_slim as slim

from resnet_v2.common import precision as precision_lib
from resnet_v2.nets import zoo
from resnet_v2.nets import checkpoints

INPUT_NAME = 'images'
OUTPUT_NAME = 'logits'


class FrozenNet(collections.namedtuple(
    'FrozenNet', ['graph_def', 'image_size', 'num_classes'])):
  """A frozen inference ``GraphDef`` and the shape of its input and output."""

  __slots__ = ()

  @property
  def input_shape(self):
    """``[None, size, size, 3]``: any batch of preprocessed images."""
    return [None, self.image_size, self.image_size, 3]


def _freeze(network_fn, image_size, num_classes, initialize):
  """Build ``network_fn`` on a placeholder, ``initialize(session)``, freeze."""
  with tf.Graph().as_default() as graph:
    images = tf.placeholder(tf.float32, [None, image_size, image_size, 3],
                            INPUT_NAME)
    logits, _ = network_fn(images)
    tf.identity(logits, OUTPUT_NAME)
    with tf.Session() as session:
      initialize(session)
      graph_def = tf.graph_util.convert_variables_to_constants(
          session, graph.as_graph_def(), [OUTPUT_NAME])
  graph_def = tf.graph_util.remove_training_nodes(
      graph_def, protected_nodes=[OUTPUT_NAME])
  return FrozenNet(graph_def, image_size, num_classes)


def freeze_run(trained) -> FrozenNet:
  """The frozen graph of a ``run_dir.TrainedRun`` at its checkpoint."""
  def restore(session):
    restore_fn, _ = checkpoints.restore_fn(trained.checkpoint,
                                           slim.get_model_variables())
    restore_fn(session)
  return _freeze(trained.network_fn(), trained.record['image_size'],
                 len(trained.class_names), restore)


def freeze_random(model, image_size, num_classes=1000, seed=0) -> FrozenNet:
  """The frozen graph of ``model`` with random (initialiser) weights."""
  def initialize(session):
    session.run(tf.global_variables_initializer())
  def build(images):
    tf.set_random_seed(seed)
    return zoo.get_network_fn(model, num_classes=num_classes)(images)
  return _freeze(build, image_size, num_classes, initialize)


class TensorFlowEngine(object):
  """Runs a ``FrozenNet`` in a TensorFlow session: the benchmark baseline.

  ``precision`` 'bf16' turns on oneDNN's bfloat16 rewrite; the session
  uses ``threads`` threads per op and runs one op at a time.
  """

  def __init__(self, net: FrozenNet, precision='fp32', threads=0):
    self._graph = tf.Graph()
    with self._graph.as_default():
      tf.import_graph_def(net.graph_def, name='')
    self._session = tf.Session(graph=self._graph, config=(
        precision_lib.session_config(precision, intra_op_threads=threads,
                                     inter_op_threads=1)))
    self._input = self._graph.get_tensor_by_name(INPUT_NAME + ':0')
    self._output = self._graph.get_tensor_by_name(OUTPUT_NAME + ':0')

  def run(self, images: np.ndarray) -> np.ndarray:
    """The logits of a float32 batch of preprocessed images."""
    return self._session.run(self._output, {self._input: images})

  def close(self):
    """Free the session."""
    self._session.close()

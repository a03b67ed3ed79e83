"""The nets this package is timed against, built the same way as its own.

Every builder here has the signature ``build(model, images, is_training)``
and returns a ``NetOutputs``, so the benchmark times the project's net and
its peers through one code path:

* this package's net, from the registry;
* TF-Slim's reference ``tf_slim.nets.resnet_v2`` (``resnet_v1`` for the
  zoo's v1 nets): the same architecture and variables, imported after the
  package's compat fix so it runs on current TensorFlow;
* Keras' ``ResNet50V2``/``ResNet101V2``/``ResNet152V2`` with random weights,
  from ``tf_keras.applications`` (Keras 2): Keras 3 cannot build inside a
  TF1 graph, tf-keras can, so all three run in the same session on the
  same input tensor.
"""

import collections

import tensorflow.compat.v1 as tf
import tf_keras
import tf_slim as slim

from resnet_v2.nets import compat  # noqa: F401  (tf_slim.nets needs the fix first)
from resnet_v2.nets import zoo
from tf_slim.nets import resnet_v1 as slim_resnet_v1
from tf_slim.nets import resnet_v2 as slim_resnet_v2

NUM_CLASSES = 1000

# TF-Slim's reference module by model-name prefix, and the depths it has.
SLIM_REFERENCES = {'resnet_v1_': slim_resnet_v1, 'resnet_v2_': slim_resnet_v2}
SLIM_DEPTHS = (50, 101, 152, 200)

# The depths Keras ships, by this package's model name.
KERAS_APPLICATIONS = {
    'resnet_v2_50': 'ResNet50V2',
    'resnet_v2_101': 'ResNet101V2',
    'resnet_v2_152': 'ResNet152V2',
}

NetOutputs = collections.namedtuple(
    'NetOutputs', ['logits', 'trainable_variables', 'update_ops'])
NetOutputs.__doc__ = """One built net, as much as a benchmark needs of it.

Attributes:
  logits: ``[batch, 1000]`` logits, before softmax.
  trainable_variables: what a train step differentiates with respect to.
  update_ops: batch-norm moving-average updates a train step must run
    (empty when ``is_training`` is False).
"""


def _scoped_outputs(logits, scope):
  """``NetOutputs`` for a TF-Slim style net built under ``scope``."""
  return NetOutputs(logits, tf.trainable_variables(scope + '/'),
                    tf.get_collection(tf.GraphKeys.UPDATE_OPS, scope + '/'))


def build_project_net(model, images, is_training):
  """This package's ``model``, through ``get_network_fn``."""
  network_fn = zoo.get_network_fn(model, num_classes=NUM_CLASSES,
                                       is_training=is_training)
  logits, _ = network_fn(images)
  return _scoped_outputs(logits, model)


def slim_reference_module(model):
  """TF-Slim's module that defines ``model``, or None if it has none."""
  for prefix, module in SLIM_REFERENCES.items():
    if model in ['%s%d' % (prefix, depth) for depth in SLIM_DEPTHS]:
      return module
  return None


def build_slim_reference(model, images, is_training):
  """TF-Slim's own ``tf_slim.nets.resnet_v2.<model>`` in its arg_scope.

  Built under the scope ``tf_slim_<model>`` so that it can sit in the
  same graph as the project's net.
  """
  module = slim_reference_module(model)
  scope = 'tf_slim_' + model
  with slim.arg_scope(module.resnet_arg_scope()):
    logits, _ = getattr(module, model)(
        images, NUM_CLASSES, is_training=is_training, scope=scope)
  return _scoped_outputs(logits, scope)


def build_keras(model, images, is_training):
  """Keras' ResNet v2 of the same depth, with random weights.

  ``classifier_activation=None`` makes the model end in logits, like the
  other nets; the model is called on ``images`` with ``training`` set, so
  its batch norms update their statistics exactly when the others do.
  """
  application = getattr(tf_keras.applications, KERAS_APPLICATIONS[model])
  height, width, channels = images.shape.as_list()[1:]
  net = application(weights=None, input_shape=(height, width, channels),
                    classifier_activation=None)
  logits = net(images, training=is_training)
  update_ops = net.get_updates_for(images) if is_training else []
  return NetOutputs(logits, list(net.trainable_weights), update_ops)


Peer = collections.namedtuple('Peer', ['name', 'build'])
Peer.__doc__ = """A net to time: a display name and its ``build`` function."""


def project_and_peers(model):
  """``[Peer, ...]``: this package's ``model`` first, then its peers.

  TF-Slim has references for depths 50, 101, 152 and 200, Keras ResNet
  v2 nets only for 50, 101 and 152, so other models get fewer peers.
  """
  contenders = [Peer('resnet_v2 (this package)', build_project_net)]
  module = slim_reference_module(model)
  if module is not None:
    contenders.append(Peer(module.__name__, build_slim_reference))
  if model in KERAS_APPLICATIONS:
    contenders.append(Peer('tf_keras ' + KERAS_APPLICATIONS[model],
                           build_keras))
  return contenders

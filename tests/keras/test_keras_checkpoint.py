"""load_slim_checkpoint: TF-Slim checkpoints into the Keras layer, by name.

The oracle is a checkpoint written by TF-Slim's own resnet_v2_50 with 1001
classes, the layout of TF-Slim's released ImageNet checkpoints, read back
with ``tf.train.load_variable``.
"""

import numpy as np
import pytest
import tensorflow as tf
import tf_slim as slim
from tf_slim.nets import resnet_v2 as slim_resnet_v2

from conftest import random_images
from resnet_v2 import tf_keras as resnet_keras
from resnet_v2.nets import checkpoints


@pytest.fixture(scope='module')
def released_checkpoint(tmp_path_factory):
  """A checkpoint of TF-Slim's resnet_v2_50 with 1001 classes."""
  prefix = str(tmp_path_factory.mktemp('slim') / 'resnet_v2_50.ckpt')
  with tf.Graph().as_default():
    images = tf.compat.v1.placeholder(tf.float32, [1, 32, 32, 3])
    with slim.arg_scope(slim_resnet_v2.resnet_arg_scope()):
      slim_resnet_v2.resnet_v2_50(images, num_classes=1001)
    with tf.compat.v1.Session() as session:
      session.run(tf.compat.v1.global_variables_initializer())
      tf.compat.v1.train.Saver().save(session, prefix)
  return prefix


@pytest.fixture(scope='module')
def layer_1000():
  """A built resnet_v2_50 layer with 1000 classes."""
  layer = resnet_keras.ResNetV2('resnet_v2_50', 1000)
  layer(random_images(1, 32, 32))
  return layer


def test_a_1001_class_checkpoint_lists_the_logits_with_the_fix(
    released_checkpoint, layer_1000):
  before = [v.numpy() for v in layer_1000.variables]
  with pytest.raises(checkpoints.CheckpointMismatchError) as error:
    resnet_keras.load_slim_checkpoint(layer_1000, released_checkpoint)
  message = str(error.value)
  assert 'resnet_v2_50/logits/weights  [1, 1, 2048, 1001]  [1, 1, 2048, 1000]' \
      in message
  assert message.endswith("pass exclude_scopes=['resnet_v2_50/logits']")
  for old, variable in zip(before, layer_1000.variables):
    np.testing.assert_array_equal(old, variable.numpy())


def test_excluding_the_logits_restores_every_other_variable(
    released_checkpoint, layer_1000):
  logits = [v.numpy() for v in layer_1000.variables if '/logits/' in v.name]
  restored = resnet_keras.load_slim_checkpoint(
      layer_1000, released_checkpoint, exclude_scopes='resnet_v2_50/logits/')
  assert len(restored) == len(layer_1000.variables) - 2
  for variable in restored:
    name = checkpoints.variable_name(variable)
    np.testing.assert_array_equal(
        variable.numpy(), tf.train.load_variable(released_checkpoint, name))
  assert all(np.array_equal(old, v.numpy()) for old, v in zip(
      logits, [v for v in layer_1000.variables if '/logits/' in v.name]))


def test_a_checkpoint_of_another_model_names_the_one_it_holds(
    released_checkpoint):
  layer = resnet_keras.ResNetV2('resnet_v2_18', 1001)
  layer(random_images(1, 32, 32))
  with pytest.raises(checkpoints.CheckpointMismatchError,
                     match='holds variables under resnet_v2_50, not '
                     'resnet_v2_18: pick the model_name it was trained as'):
    resnet_keras.load_slim_checkpoint(layer, released_checkpoint)


def test_a_scope_that_matches_nothing_is_refused(released_checkpoint,
                                                  layer_1000):
  with pytest.raises(ValueError, match="exclude_scopes: scope 'logits' "
                     'matches no variable'):
    resnet_keras.load_slim_checkpoint(layer_1000, released_checkpoint,
                                      exclude_scopes=['logits'])


def test_a_missing_checkpoint_says_what_to_pass(tmp_path, layer_1000):
  with pytest.raises(ValueError, match='is not a checkpoint: pass .*, a '
                     'checkpoint prefix'):
    resnet_keras.load_slim_checkpoint(layer_1000, str(tmp_path / 'none'))


def test_a_layer_not_yet_called_is_refused_with_the_fix(released_checkpoint):
  with pytest.raises(ValueError, match=r'call it once first, e\.g\. '
                     r'layer\(tf\.zeros\(\[1, 224, 224, 3\]\)\)'):
    resnet_keras.load_slim_checkpoint(
        resnet_keras.ResNetV2('resnet_v2_50', 1000), released_checkpoint)

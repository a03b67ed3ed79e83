"""A module holding the Keras layer saves as a SavedModel that runs alone.

The oracle is the layer itself: the reloaded SavedModel, and Keras 3's
``TFSMLayer`` on it, must give the layer's logits.
"""

import numpy as np
import pytest
import tensorflow as tf

from conftest import max_relative_difference
from conftest import random_images
from resnet_v2 import tf_keras as resnet_keras


class Classifier(tf.Module):
  """A serving module: float images in, the layer's inference logits out."""

  def __init__(self, layer):
    super().__init__()
    self.layer = layer

  @tf.function(input_signature=[tf.TensorSpec([None, 32, 32, 3],
                                              tf.float32)])
  def serve(self, images):
    return {'logits': self.layer(images, training=False)}


@pytest.fixture(scope='module')
def exported(tmp_path_factory):
  """``(path, layer)``: a resnet_v2_18 layer and its saved Classifier."""
  layer = resnet_keras.ResNetV2('resnet_v2_18', 5)
  layer(random_images(1, 32, 32), training=True)
  module = Classifier(layer)
  path = str(tmp_path_factory.mktemp('saved') / 'classifier')
  tf.saved_model.save(module, path,
                      signatures={'serving_default': module.serve})
  return path, layer


def test_the_reloaded_saved_model_gives_the_layers_logits(exported):
  path, layer = exported
  images = random_images(3, 32, 32, seed=1)
  reloaded = tf.saved_model.load(path)
  logits = reloaded.signatures['serving_default'](tf.constant(images))
  assert max_relative_difference(logits['logits'].numpy(),
                                 layer(images).numpy()) <= 1e-5
  names = {v.name for v in reloaded.layer.variables}
  assert 'resnet_v2_18/logits/weights:0' in names
  assert len(names) == len(layer.variables)


def test_keras_3_calls_it_through_tfsm_layer(exported):
  keras = pytest.importorskip('keras')
  if not keras.__version__.startswith('3.'):
    pytest.skip('Keras %s is not Keras 3' % keras.__version__)
  path, layer = exported
  images = random_images(2, 32, 32, seed=2)
  outputs = keras.layers.TFSMLayer(path, call_endpoint='serving_default')(
      images)
  np.testing.assert_allclose(np.asarray(outputs['logits']),
                             layer(images).numpy(), rtol=1e-5, atol=1e-5)

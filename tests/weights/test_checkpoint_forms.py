"""Every checkpoint form TF-Slim and TensorFlow write, everywhere one is taken.

Oracle: TF-Slim's own resnet_v2 (the tiny layout of ``tiny_release``),
saved with random weights as a single V1-format file in a folder with no
state file (as TF-Slim released its weights) and as a V2 prefix.
"""

import os
import shutil

import numpy as np
import pytest
import tensorflow.compat.v1 as tf
import tf_slim as slim

import resnet_v2
from resnet_v2 import deploy
from resnet_v2 import tf_keras
from resnet_v2 import training
from resnet_v2.nets import checkpoints
from resnet_v2.training import run_dir

import tiny_release
from image_sets import small_options
from image_sets import write_grey_classes

MODEL = tiny_release.MODEL
LOGITS = MODEL + '/logits'


@pytest.fixture(scope='module')
def saved(tmp_path_factory):
  """``{form: (path, reference logits)}`` for the V1 file and V2 prefix."""
  root = tmp_path_factory.mktemp('checkpoints')
  os.makedirs(root / 'v1')
  os.makedirs(root / 'v2')
  v1 = str(root / 'v1' / tiny_release.RELEASE.checkpoint)
  v2 = str(root / 'v2' / 'model.ckpt-7')
  return {'v1': (v1, tiny_release.write_checkpoint(v1, v1=True)),
          'v2': (v2, tiny_release.write_checkpoint(v2, v1=False))}


@pytest.fixture(scope='module')
def photos(tmp_path_factory):
  """Two classes of tiny grey images."""
  return write_grey_classes(str(tmp_path_factory.mktemp('photos')), [40, 210])


def graph_logits(checkpoint_path):
  """The package's graph build restored from ``checkpoint_path``."""
  with tf.Graph().as_default():
    logits, _ = resnet_v2.get_network_fn(MODEL, 1001)(
        tf.constant(tiny_release.test_images()))
    restore, _ = checkpoints.restore_fn(checkpoint_path,
                                        slim.get_model_variables())
    with tf.Session() as session:
      restore(session)
      return session.run(logits)


def relative(actual, expected):
  """Largest difference relative to the largest expected value."""
  return float(np.max(np.abs(actual - expected)) / np.max(np.abs(expected)))


def test_the_v1_file_is_one_file_with_no_state_file(saved):
  path, _ = saved['v1']
  assert os.listdir(os.path.dirname(path)) == [os.path.basename(path)]


@pytest.mark.parametrize('form', ['v1 file', 'v1 folder', 'v2 prefix',
                                  'v2 folder with state file'])
def test_every_form_restores_the_reference_logits(saved, form):
  path, expected = saved[form[:2]]
  if 'folder' in form:
    path = os.path.dirname(path)
  assert relative(graph_logits(path), expected) < 1e-5


def test_a_folder_with_one_v2_checkpoint_and_no_state_file(saved, tmp_path):
  prefix, expected = saved['v2']
  for name in os.listdir(os.path.dirname(prefix)):
    if name.startswith('model.ckpt-7.'):
      shutil.copy(os.path.join(os.path.dirname(prefix), name), tmp_path)
  assert checkpoints.resolve(str(tmp_path)) == str(tmp_path / 'model.ckpt-7')
  assert relative(graph_logits(str(tmp_path)), expected) < 1e-5


def test_a_folder_with_two_checkpoints_and_no_state_file_says_pass_one(
    saved, tmp_path):
  shutil.copy(saved['v1'][0], tmp_path / 'a.ckpt')
  shutil.copy(saved['v1'][0], tmp_path / 'b.ckpt')
  with pytest.raises(ValueError, match='holds 2 checkpoints and no '
                     '"checkpoint" state file: pass one of them, e.g. .*b.ckpt'):
    checkpoints.resolve(str(tmp_path))
  assert checkpoints.resolve(str(tmp_path / 'b.ckpt')).endswith('b.ckpt')


@pytest.mark.parametrize('content', [b'', b'not a checkpoint\n'])
def test_a_file_that_is_no_checkpoint_names_the_forms_that_work(
    tmp_path, content):
  path = tmp_path / 'model.ckpt'
  path.write_bytes(content)
  with pytest.raises(ValueError) as error:
    checkpoints.resolve(str(path))
  message = str(error.value)
  assert '\n' not in message
  assert 'is not a checkpoint: pass a TF1 checkpoint file in the V1 format' \
      in message
  assert 'a folder holding exactly one checkpoint' in message


def test_the_mismatch_table_reads_a_v1_file(saved, graph):
  resnet_v2.get_network_fn(MODEL, 10)(tf.placeholder(tf.float32,
                                                     [1, 32, 32, 3]))
  with pytest.raises(checkpoints.CheckpointMismatchError) as error:
    checkpoints.restore_fn(saved['v1'][0], slim.get_model_variables())
  assert '%s/weights  [1, 1, 256, 1001]  [1, 1, 256, 10]' % LOGITS \
      in str(error.value)
  assert str(error.value).endswith('--checkpoint_exclude_scopes=' + LOGITS)


@pytest.mark.parametrize('form', ['v1', 'v2'])
def test_the_tf_keras_layer_loads_each_form(saved, form):
  path, expected = saved[form]
  layer = tf_keras.ResNetV2(MODEL, num_classes=1001)
  layer(tiny_release.test_images())
  load = os.path.dirname(path) if form == 'v1' else path
  tf_keras.load_slim_checkpoint(layer, load)
  assert relative(layer(tiny_release.test_images()).numpy(), expected) < 1e-4


@pytest.mark.parametrize('form', ['v1', 'v2'])
def test_each_form_fine_tunes_evaluates_and_exports(saved, photos, tmp_path,
                                                    form):
  path, _ = saved[form]
  train_dir = str(tmp_path / 'run')
  result = training.train(small_options(
      photos, train_dir, model=MODEL, max_steps=2, checkpoint_path=path,
      checkpoint_exclude_scopes=[LOGITS], trainable_scopes=[LOGITS]))
  assert result.global_step == 2
  reader = tf.train.load_checkpoint(result.checkpoint)
  released = tf.train.load_checkpoint(path)
  conv = MODEL + '/block2/unit_1/bottleneck_v2/conv2/weights'
  np.testing.assert_array_equal(reader.get_tensor(conv),
                                released.get_tensor(conv))
  assert reader.get_tensor(LOGITS + '/weights').shape == (1, 1, 256, 2)
  scores = training.evaluate(train_dir, photos)
  assert scores.num_images == 8
  export_dir = str(tmp_path / 'export')
  deploy.export_model(train_dir, export_dir)
  probabilities, _, names = deploy.load(export_dir).predict(
      np.full((2, 8, 8, 3), 40, np.uint8))
  assert probabilities.shape == (2, 2)
  assert set(names) <= {'class_0', 'class_1'}


def test_evaluate_and_export_take_a_v1_checkpoint_path(saved, photos,
                                                       tmp_path):
  train_dir = str(tmp_path / 'run')
  first = training.train(small_options(photos, train_dir, model=MODEL,
                                       max_steps=1))
  os.makedirs(tmp_path / 'single')
  single = str(tmp_path / 'single' / 'model.ckpt')
  with tf.Graph().as_default():
    reader = tf.train.load_checkpoint(first.checkpoint)
    variables = [tf.Variable(reader.get_tensor(name), name=name)
                 for name in reader.get_variable_to_shape_map()]
    with tf.Session() as session:
      session.run(tf.global_variables_initializer())
      tf.train.Saver(variables, write_version=tf.train.SaverDef.V1).save(
          session, single, write_meta_graph=False, write_state=False)
  direct = training.evaluate(train_dir, photos)
  from_v1 = training.evaluate(train_dir, photos,
                              checkpoint_path=os.path.dirname(single))
  np.testing.assert_allclose(from_v1.probabilities, direct.probabilities,
                             rtol=1e-5, atol=1e-6)
  manifest = deploy.export_model(train_dir, str(tmp_path / 'export'),
                                 checkpoint_path=single)
  assert manifest['checkpoint'] == single
  assert run_dir.open_run(train_dir, single).checkpoint == single


@pytest.mark.parametrize('num_classes', [1001, 5])
def test_get_network_fn_starts_from_weights(saved, num_classes):
  path, expected = saved['v1']
  with tf.Graph().as_default():
    network_fn = resnet_v2.get_network_fn(MODEL, num_classes, weights=path)
    logits, end_points = network_fn(tf.constant(tiny_release.test_images()))
    with tf.Session() as session:
      session.run(tf.global_variables_initializer())
      reader = tf.train.load_checkpoint(path)
      conv = MODEL + '/block1/unit_1/bottleneck_v2/conv1/weights'
      np.testing.assert_array_equal(
          session.run(tf.global_variables(conv)[0]), reader.get_tensor(conv))
      if num_classes == 1001:
        assert relative(session.run(logits), expected) < 1e-5
      else:
        assert session.run(logits).shape == (2, 5)


def test_get_network_fn_refuses_weights_of_another_shape(saved):
  with tf.Graph().as_default():
    network_fn = resnet_v2.get_network_fn('resnet_v2_18', 10,
                                          weights=saved['v1'][0])
    with pytest.raises(checkpoints.CheckpointMismatchError,
                       match='The checkpoint holds variables under '
                       'resnet_v2_tiny, not resnet_v2_18'):
      network_fn(tf.zeros([1, 32, 32, 3]))


@pytest.mark.parametrize('num_classes', [1001, 3])
def test_the_tf_keras_layer_starts_from_weights(saved, num_classes):
  path, expected = saved['v1']
  layer = tf_keras.ResNetV2(MODEL, num_classes=num_classes, weights=path)
  logits = layer(tiny_release.test_images()).numpy()
  if num_classes == 1001:
    assert relative(logits, expected) < 1e-4
  else:
    assert logits.shape == (2, 3)
  conv = [v for v in layer.variables
          if v.name.startswith(MODEL + '/block3/unit_2/bottleneck_v2/conv3/')]
  np.testing.assert_array_equal(
      conv[0].numpy(), tf.train.load_checkpoint(path).get_tensor(
          checkpoints.variable_name(conv[0])))

"""Checkpoint restores for fine-tuning, scope flags and train_dir ownership."""

import os

import numpy as np
import pytest
import tensorflow.compat.v1 as tf
import tf_slim as slim
from tf_slim.nets import resnet_v2 as slim_resnet_v2

import resnet_v2
from resnet_v2.nets import checkpoints
from resnet_v2.training import run_dir


@pytest.fixture(scope='module')
def imagenet_checkpoint(tmp_path_factory):
  """A checkpoint of TF-Slim's own resnet_v2_50 with 1001 classes.

  The released ImageNet checkpoints have this layout (class 0 is
  'background'), so it stands in for them.
  """
  prefix = str(tmp_path_factory.mktemp('slim') / 'resnet_v2_50.ckpt')
  with tf.Graph().as_default():
    images = tf.placeholder(tf.float32, [1, 32, 32, 3])
    with slim.arg_scope(slim_resnet_v2.resnet_arg_scope()):
      slim_resnet_v2.resnet_v2_50(images, num_classes=1001)
    with tf.Session() as session:
      session.run(tf.global_variables_initializer())
      tf.train.Saver().save(session, prefix)
  return prefix


def model_variables(name, num_classes):
  """Build ``name`` in the default graph; its model variables."""
  network_fn = resnet_v2.get_network_fn(name, num_classes=num_classes)
  network_fn(tf.placeholder(tf.float32, [1, 32, 32, 3]))
  return slim.get_model_variables()


def test_a_1001_class_checkpoint_into_1000_classes_lists_the_logits(
    imagenet_checkpoint, graph):
  variables = model_variables('resnet_v2_50', 1000)
  mismatches = checkpoints.find_mismatches(imagenet_checkpoint, variables)
  assert mismatches == [
      checkpoints.Mismatch('resnet_v2_50/logits/weights', [1, 1, 2048, 1001],
                           [1, 1, 2048, 1000]),
      checkpoints.Mismatch('resnet_v2_50/logits/biases', [1001], [1000]),
  ]
  with pytest.raises(checkpoints.CheckpointMismatchError) as error:
    checkpoints.restore_fn(imagenet_checkpoint, variables)
  message = str(error.value)
  assert 'resnet_v2_50/logits/weights  [1, 1, 2048, 1001]  [1, 1, 2048, 1000]' \
      in message
  assert message.endswith('--checkpoint_exclude_scopes=resnet_v2_50/logits')


def test_excluding_the_logits_restores_every_other_variable(
    imagenet_checkpoint, graph):
  variables = model_variables('resnet_v2_50', 1000)
  restore, restored = checkpoints.restore_fn(
      imagenet_checkpoint, variables, ['resnet_v2_50/logits'])
  assert len(restored) == len(variables) - 2
  with tf.Session() as session:
    session.run(tf.global_variables_initializer())
    restore(session)
    values = session.run(restored)
  for variable, value in zip(restored, values):
    np.testing.assert_array_equal(
        value, tf.train.load_variable(imagenet_checkpoint, variable.op.name))


def test_a_checkpoint_of_another_model_asks_for_the_right_model(
    imagenet_checkpoint, graph):
  variables = model_variables('resnet_v2_18', 1001)
  with pytest.raises(checkpoints.CheckpointMismatchError,
                     match='variables under resnet_v2_50, not resnet_v2_18: '
                           'pick the --model'):
    checkpoints.restore_fn(imagenet_checkpoint, variables)


def test_an_exclude_scope_that_matches_nothing_is_an_error(
    imagenet_checkpoint, graph):
  variables = model_variables('resnet_v2_18', 10)
  with pytest.raises(ValueError, match="--checkpoint_exclude_scopes: scope "
                                       "'resnet_v2_18/logit' matches no"):
    checkpoints.restore_fn(imagenet_checkpoint, variables,
                           ['resnet_v2_18/logit'])
  with pytest.raises(ValueError, match='excludes every variable'):
    checkpoints.restore_fn(imagenet_checkpoint, variables, ['resnet_v2_18'])


def test_trainable_scopes_select_by_prefix(graph):
  variables = model_variables('resnet_v2_18', 10)
  chosen = checkpoints.trainable(variables, ['resnet_v2_18/logits'])
  assert [v.op.name for v in chosen] == ['resnet_v2_18/logits/weights',
                                         'resnet_v2_18/logits/biases']
  assert checkpoints.trainable(variables, []) == variables
  with pytest.raises(ValueError, match='--trainable_scopes'):
    checkpoints.trainable(variables, ['resnet_v2_18/head'])


def test_scopes_ignore_spaces_blanks_and_trailing_slashes(graph):
  variables = model_variables('resnet_v2_18', 10)
  assert checkpoints.clean_scopes([' a/logits/', 'b ', '']) == ['a/logits', 'b']
  assert checkpoints.exclude(variables, ['resnet_v2_18/logits/ ', '']) == \
      variables[:-2]


def test_resolve_finds_the_latest_checkpoint_of_a_folder(
    imagenet_checkpoint, tmp_path):
  folder = os.path.dirname(imagenet_checkpoint)
  assert checkpoints.resolve(folder) == imagenet_checkpoint
  assert checkpoints.resolve(imagenet_checkpoint) == imagenet_checkpoint
  with pytest.raises(ValueError, match='is not a checkpoint'):
    checkpoints.resolve(str(tmp_path))


RUN = {'model': 'resnet_v2_18', 'class_names': ['cat', 'dog'],
       'image_size': 32}


def test_claim_writes_a_record_and_resumes_the_same_run(tmp_path):
  folder = str(tmp_path / 'run')
  assert run_dir.claim(folder, RUN) == RUN
  assert run_dir.read_run(folder) == RUN
  assert run_dir.claim(folder, dict(RUN)) == RUN


def test_claim_refuses_other_classes_and_keeps_the_record(tmp_path):
  folder = str(tmp_path)
  run_dir.claim(folder, RUN)
  with pytest.raises(ValueError, match='holds a run of model resnet_v2_18 '
                                       r'with 2 classes \(cat, dog\)'):
    run_dir.claim(folder, dict(RUN, class_names=['cat', 'cow']))
  assert run_dir.read_run(folder) == RUN


def test_checkpoints_without_a_record_are_not_adopted(imagenet_checkpoint):
  folder = os.path.dirname(imagenet_checkpoint)
  with pytest.raises(ValueError, match='without a run.json'):
    run_dir.check_owner(folder, RUN)
  assert not os.path.exists(run_dir.run_file(folder))

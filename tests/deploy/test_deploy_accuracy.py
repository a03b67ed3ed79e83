"""``evaluate --model_path``: an export scored next to its checkpoint."""

import json
import os
import shutil

import pytest

from resnet_v2 import deploy
from resnet_v2 import evaluate
from resnet_v2 import training
from resnet_v2.common import cli
from resnet_v2.deploy import accuracy

from deploy_runs import train_tiny


@pytest.fixture(scope='module')
def exported(tmp_path_factory):
  """A tiny run with a validation split, exported to LiteRT fp32 and int8."""
  data_dir, train_dir = train_tiny(tmp_path_factory, per_class=8,
                                   validation_split=0.25)
  folders = {}
  for precision in ('fp32', 'int8'):
    folders[precision] = str(tmp_path_factory.mktemp('export') / 'model')
    deploy.export_model(train_dir, folders[precision], 'tflite', precision,
                        data_dir=data_dir, calibration_images=8)
  return data_dir, train_dir, folders


def run_evaluate(arguments, capsys):
  """``python -m resnet_v2.evaluate`` in process: (exit status, out, err)."""
  evaluate.FLAGS.unparse_flags()
  with pytest.raises(SystemExit) as exit_info:
    cli.run(evaluate.main, evaluate.FLAGS, evaluate.__doc__,
            ['evaluate'] + arguments)
  captured = capsys.readouterr()
  return exit_info.value.code, captured.out, captured.err


def test_fp32_export_scores_like_its_checkpoint_on_the_held_out_images(
    exported):
  data_dir, train_dir, folders = exported
  comparison = deploy.compare(folders['fp32'], data_dir)
  checkpoint = training.evaluate(train_dir, data_dir, subset='validation')
  assert comparison.checkpoint.subset == comparison.export.subset == (
      'validation')
  assert comparison.export.num_images == checkpoint.num_images == 6
  assert comparison.checkpoint.top1 == checkpoint.top1
  assert comparison.export.top1 == checkpoint.top1
  assert comparison.agreement == 1.0
  assert comparison.max_probability_difference < 1e-5


def test_the_command_prints_both_side_by_side(exported, capsys):
  data_dir, _, folders = exported
  comparison = deploy.compare(folders['int8'], data_dir)
  status, out, _ = run_evaluate(['--model_path=' + folders['int8'],
                                 '--data_dir=' + data_dir], capsys)
  assert status == 0
  assert out.strip() == accuracy.report(comparison)
  lines = out.splitlines()
  assert lines[0] == 'subset: validation (6 images)'
  assert lines[3].split() == ['tflite', 'int8', '%.4f' % comparison.export.top1,
                              '%.4f' % comparison.export.top_k]
  assert lines[4].split()[:2] == ['checkpoint', 'fp32']
  assert comparison.agreement >= 5 / 6
  assert lines[5] == ('top-1 agreement with the checkpoint: %.4f'
                      % comparison.agreement)


def test_an_export_of_other_classes_is_refused(exported, tmp_path):
  data_dir, _, folders = exported
  copy = str(tmp_path / 'copy')
  shutil.copytree(folders['fp32'], copy)
  names = ['cat', 'dog', 'fish']
  path = os.path.join(copy, 'model.json')
  with open(path) as f:
    manifest = json.load(f)
  manifest['class_names'] = names
  with open(path, 'w') as f:
    json.dump(manifest, f)
  with open(os.path.join(copy, 'labels.txt'), 'w') as f:
    f.write(''.join(name + '\n' for name in names))
  with pytest.raises(ValueError, match='are not the 3 classes of the export'):
    deploy.compare(copy, data_dir)
  renamed = str(tmp_path / 'renamed')
  shutil.copytree(data_dir, renamed)
  for label, name in enumerate(names):
    os.rename(os.path.join(renamed, 'class_%d' % label),
              os.path.join(renamed, name))
  with pytest.raises(ValueError, match='has other classes than the run'):
    deploy.compare(copy, renamed)


def test_a_folder_that_is_no_export_is_refused(exported):
  data_dir, _, _ = exported
  with pytest.raises(ValueError, match='holds no model.json'):
    deploy.compare(data_dir, data_dir)


def test_tta_with_an_export_is_one_line(exported, capsys):
  data_dir, _, folders = exported
  status, out, err = run_evaluate(['--model_path=' + folders['fp32'],
                                   '--data_dir=' + data_dir, '--tta'], capsys)
  assert (status, out) == (2, '')
  assert err.splitlines() == [
      'error: --model_path scores the export as it was exported: leave out '
      '--tta and --precision (export with --precision instead).']


def test_neither_a_run_nor_an_export_is_one_line(exported, capsys):
  data_dir, _, _ = exported
  status, out, err = run_evaluate(['--data_dir=' + data_dir], capsys)
  assert (status, out) == (2, '')
  assert err.splitlines() == [
      'error: pass --train_dir (a training run), --model_path (an export) or '
      '--checkpoint_path=resnet_v2_50 (a release) to say what to evaluate.']

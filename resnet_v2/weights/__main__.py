r"""TF-Slim's released ImageNet weights: ``python -m resnet_v2.weights``.

  python -m resnet_v2.weights list
  python -m resnet_v2.weights fetch resnet_v2_50 [resnet_v1_50 ...]
  python -m resnet_v2.weights classify resnet_v2_50 cat.jpg [more.jpg ...]

``list`` prints the releases (file, classes, input size, preprocessing,
published top-1/top-5) and where the cache is; ``fetch`` downloads and
checks releases into the cache (``$RESNET_V2_HOME``, else
``~/.cache/resnet_v2``) and prints each checkpoint's path; ``classify``
prints the five likeliest ImageNet classes of each image with the
release's weights and preprocessing.
"""

import argparse
import os
import sys

from resnet_v2.common import cli  # first: the log settings precede TensorFlow
from resnet_v2.common import tables
from resnet_v2.nets import releases
from resnet_v2.nets import pretrained

TOP_K = 5


class _Parser(argparse.ArgumentParser):
  """argparse with the package's convention: one ``error:`` line, status 2."""

  def error(self, message):
    """Report a usage error as every command of the package does."""
    cli.fail('%s (see python -m resnet_v2.weights --help).' % message)


def _list(_):
  """Print the table of releases and the cache folder."""
  print(tables.format_table(releases.HEADERS, releases.release_rows()))
  print('\ncache: %s (set %s to move it)' % (pretrained.cache_dir(),
                                             pretrained.HOME_VARIABLE))


def _fetch(arguments):
  """Fetch each named release; print its checkpoint path."""
  for model in arguments.models:
    releases.get_release(model)
  for model in arguments.models:
    print(pretrained.fetch(model))


def _classify(arguments):
  """Print the likeliest classes of each image under the release."""
  releases.get_release(arguments.model)
  missing = [path for path in arguments.images if not os.path.isfile(path)]
  if missing:
    raise ValueError('no image file %s: pass paths of JPEG, PNG, GIF or BMP '
                     'files.' % ', '.join(missing))
  pretrained.fetch(arguments.model)
  # The trainer's evaluation code loads TensorFlow: only this verb needs it,
  # and only once the weights are there.
  from resnet_v2.data import image_folder  # pylint: disable=C0415
  from resnet_v2.training import evaluation  # pylint: disable=C0415
  from resnet_v2.training import run_dir  # pylint: disable=C0415
  run = run_dir.open_run(None, arguments.model)
  folder = image_folder.ImageFolder(tuple(run.class_names),
                                    tuple(arguments.images),
                                    (0,) * len(arguments.images))
  result = evaluation.evaluate_folder(run, folder, batch_size=8)
  for path, probabilities in zip(arguments.images, result.probabilities):
    ranked = probabilities.argsort()[::-1][:arguments.top]
    print(path)
    print(tables.format_table(
        ['class', 'probability'],
        [(run.class_names[c], '%.4f' % probabilities[c]) for c in ranked]))


def _parser():
  """The command line: one verb and its arguments."""
  parser = _Parser(prog='python -m resnet_v2.weights', description=__doc__,
                   formatter_class=argparse.RawDescriptionHelpFormatter)
  verbs = parser.add_subparsers(dest='verb', required=True,
                                parser_class=_Parser)
  verbs.add_parser('list', help='the released weights').set_defaults(run=_list)
  fetch = verbs.add_parser('fetch', help='download releases into the cache')
  fetch.add_argument('models', nargs='+', metavar='MODEL')
  fetch.set_defaults(run=_fetch)
  classify = verbs.add_parser('classify',
                              help='ImageNet classes of photos')
  classify.add_argument('model', metavar='MODEL')
  classify.add_argument('images', nargs='+', metavar='IMAGE')
  classify.add_argument('--top', type=int, default=TOP_K,
                        help='classes to print per image')
  classify.set_defaults(run=_classify)
  return parser


def main(argv=None) -> int:
  """Run the verb the command line names; the exit status."""
  arguments = _parser().parse_args(sys.argv[1:] if argv is None else argv)
  with cli.errors_as_usage():
    arguments.run(arguments)
  return 0


if __name__ == '__main__':
  sys.exit(main())

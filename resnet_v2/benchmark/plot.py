"""A bar chart of a benchmark sweep: images/sec by model and run kind.

  check_plotting_available()               # before any long run
  plot_images_per_sec(results, 'speed.png')

matplotlib is an optional extra (``pip install "resnet_v2[plots]"``); it is
imported only when a chart is drawn.
"""


def check_plotting_available():
  """Raise a ValueError if matplotlib, needed for the chart, is missing."""
  try:
    import matplotlib  # noqa: F401  (only checks that it is installed)
  except ImportError as error:
    message = ('plotting needs matplotlib: pip install "resnet_v2[plots]" or '
               'leave out the plot path.')
    raise ValueError(message) from error


def plot_images_per_sec(results, path):
  """Save a PNG bar chart of images/sec, grouped by model, one bar per run kind.

  A "run kind" is mode plus precision (and XLA), so a sweep over models
  and precisions reads as groups of bars, one group per model.
  """
  import matplotlib
  matplotlib.use('Agg')
  import matplotlib.pyplot as plt

  models = list(dict.fromkeys(r.model for r in results))
  kinds = list(dict.fromkeys(_kind(r) for r in results))
  width = 0.8 / len(kinds)
  figure, axes = plt.subplots(figsize=(max(6, 1.5 * len(models)), 4))
  for index, kind in enumerate(kinds):
    speeds = {r.model: r.images_per_sec for r in results if _kind(r) == kind}
    positions = [m + index * width for m in range(len(models))]
    axes.bar(positions, [speeds.get(model, 0.0) for model in models],
             width, label=kind)
  axes.set_xticks([m + 0.4 - width / 2 for m in range(len(models))])
  axes.set_xticklabels(models)
  axes.set_ylabel('images/sec')
  axes.set_title('batch %d at %dx%d' % (results[0].batch_size,
                                        results[0].image_size,
                                        results[0].image_size))
  axes.legend()
  figure.tight_layout()
  figure.savefig(path)
  plt.close(figure)


def _kind(result):
  """``'<mode> <precision>[ XLA]'``: the legend entry of a run."""
  return '%s %s%s' % (result.mode, result.precision,
                      ' XLA' if result.xla else '')

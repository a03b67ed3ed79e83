"""The runtime benchmark as a Markdown table, JSON and a chart.

  print(table(results))
  write_json(results, 'runtimes.json')      # {"runs": [...]}
  plot(results, 'runtimes.png')             # needs matplotlib

Everything here formats ``runtimes.RuntimeResult`` values; nothing
measures.
"""

import json

from resnet_v2.benchmark import report
from resnet_v2.deploy import formats

HEADERS = ('runtime', 'precision', 'median sec/batch', 'images/sec',
           'batch-1 latency (ms)', 'speedup vs TF fp32',
           'max relative deviation')


def table(results):
  """One Markdown row per runtime and precision."""
  rows = [(r.runtime, r.precision, '%.4f' % r.median_sec_per_batch,
           '%.1f' % r.images_per_sec, '%.2f' % r.latency_ms_batch1,
           '%.2fx' % r.speedup_vs_tf_fp32,
           '%.1e' % r.max_relative_deviation) for r in results]
  return report.markdown_table(HEADERS, rows)


def write_json(results, path):
  """Write ``{"runs": [...]}``, one object per runtime and precision."""
  with open(path, 'w') as output:
    json.dump({'runs': [r.to_json() for r in results]}, output, indent=2)
    output.write('\n')


def plot(results, path):
  """Save a PNG bar chart: images/sec per runtime and precision, at the
  timed batch size and at batch 1, side by side."""
  import matplotlib
  matplotlib.use('Agg')
  import matplotlib.pyplot as plt

  labels = ['%s\n%s' % (r.runtime, r.precision) for r in results]
  positions = range(len(results))
  figure, axes = plt.subplots(figsize=(max(6, 1.4 * len(results)), 4))
  axes.bar([p - 0.2 for p in positions],
           [r.images_per_sec for r in results], 0.4,
           label='batch %d' % results[0].batch_size)
  axes.bar([p + 0.2 for p in positions],
           [1000.0 / r.latency_ms_batch1 for r in results], 0.4,
           label='batch 1')
  axes.set_xticks(list(positions))
  axes.set_xticklabels(labels)
  axes.set_ylabel('images/sec')
  axes.set_title('images/sec by runtime and precision (%d threads)'
                 % formats.session_threads())
  axes.legend()
  figure.tight_layout()
  figure.savefig(path)
  plt.close(figure)

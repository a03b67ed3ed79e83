"""Benchmark results as text, Markdown tables and JSON.

  print(sweep_table(results))              # a Markdown table of the runs
  write_json(results, 'speed.json')

Everything here formats ``spec.BenchmarkResult`` values; nothing measures.
The Markdown tables paste into a README unchanged and the JSON is for
scripts (the chart is in ``plot``).
"""

import json
import os

SWEEP_HEADERS = (
    'model', 'mode', 'precision', 'batch', 'image', 'sec/batch (mean +/- sd)',
    'median sec/batch', 'images/sec', 'GFLOPs/image', 'GFLOP/s',
    'peak GFLOP/s', '% of peak', 'bf16 deviation')

PEER_HEADERS = ('net', 'median sec/batch', 'mean sec/batch', 'images/sec',
                'ratio to this package')


def markdown_table(headers, rows):
  """A GitHub Markdown table: a header row, a rule, one line per row."""
  lines = ['| ' + ' | '.join(headers) + ' |',
           '|' + '|'.join('---' for _ in headers) + '|']
  lines += ['| ' + ' | '.join(str(cell) for cell in row) + ' |'
            for row in rows]
  return '\n'.join(lines)


def _deviation_text(result):
  """The bf16 deviation as a percentage, or a dash in fp32."""
  if result.bf16_max_relative_deviation is None:
    return '-'
  return '%.2f%%' % (100.0 * result.bf16_max_relative_deviation)


def run_summary(result):
  """A few plain lines that say what one run measured."""
  lines = [
      '%s %s in %s%s, batch %d at %dx%d:' % (
          result.model, result.mode.replace('_', '-'), result.precision,
          ' with XLA' if result.xla else '', result.batch_size,
          result.image_size, result.image_size),
      '  %.3f +/- %.3f sec/batch (median %.3f), %.1f images/sec' % (
          result.mean_sec_per_batch, result.sd_sec_per_batch,
          result.median_sec_per_batch, result.images_per_sec),
      '  %.2f GFLOPs/image, %.1f GFLOP/s achieved, matmul peak %.1f GFLOP/s '
      '(%.1f%% of peak)' % (
          result.gflops_per_image, result.achieved_gflops,
          result.peak_gflops, result.percent_of_peak),
  ]
  if result.bf16_max_relative_deviation is not None:
    lines.append('  bf16 logits deviate from fp32 by at most %s of the '
                 'largest logit' % _deviation_text(result))
  return '\n'.join(lines)


def sweep_table(results):
  """One Markdown row per run with every number ``run_summary`` prints."""
  rows = [(r.model, r.mode, r.precision + (' XLA' if r.xla else ''),
           r.batch_size, r.image_size,
           '%.3f +/- %.3f' % (r.mean_sec_per_batch, r.sd_sec_per_batch),
           '%.3f' % r.median_sec_per_batch, '%.1f' % r.images_per_sec,
           '%.2f' % r.gflops_per_image, '%.1f' % r.achieved_gflops,
           '%.1f' % r.peak_gflops, '%.1f' % r.percent_of_peak,
           _deviation_text(r))
          for r in results]
  return markdown_table(SWEEP_HEADERS, rows)


def peers_table(result):
  """The compare table of one run: each net's speed and ratio to ours."""
  rows = [(peer.name, '%.3f' % peer.median_sec_per_batch,
           '%.3f' % peer.mean_sec_per_batch,
           '%.1f' % (result.batch_size / peer.median_sec_per_batch),
           '%.3f' % peer.ratio_to_project)
          for peer in result.peers]
  return markdown_table(PEER_HEADERS, rows)


def check_writable(path, flag_name):
  """Raise a ValueError unless a file can be written at ``path``."""
  directory = os.path.dirname(os.path.abspath(path))
  if os.path.isdir(path):
    raise ValueError('%s=%s is a directory; give a file path.'
                     % (flag_name, path))
  if not os.path.isdir(directory) or not os.access(directory, os.W_OK):
    raise ValueError('%s=%s cannot be written: %s is not a writable '
                     'directory; choose a path in one.'
                     % (flag_name, path, directory))


def json_record(results):
  """The JSON of ``results``: one run's object, or ``{"runs": [...]}``."""
  records = [result.to_json() for result in results]
  return records[0] if len(records) == 1 else {'runs': records}


def write_json(results, path):
  """Write ``json_record(results)`` to ``path``, indented for reading."""
  with open(path, 'w') as output:
    json.dump(json_record(results), output, indent=2)
    output.write('\n')

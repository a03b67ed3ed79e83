"""How two runs of a net compare: output deviation and paired step-time ratios.

  max_relative_deviation(bf16_logits, fp32_logits)   # 0.0064
  peer_results(timings, 'resnet_v2 (this package)')  # median paired ratios
"""

import statistics

import numpy as np
import tensorflow.compat.v1 as tf

from resnet_v2.benchmark import spec as spec_lib

def max_relative_deviation(values, reference):
  """``max |values - reference| / max |reference|`` (0 if reference is 0).

  Relative to the largest reference value rather than element by element,
  so logits near zero do not turn a tiny absolute error into a huge ratio.
  """
  scale = float(np.max(np.abs(reference)))
  if scale == 0.0:
    return 0.0
  return float(np.max(np.abs(values - reference))) / scale


def bf16_deviation(session, logits, initializer, spec):
  """Largest relative deviation of ``logits`` in ``session`` from fp32.

  ``session`` runs the bf16 rewrite; a second session on the same graph,
  in fp32 with otherwise the same options, runs ``initializer`` (the
  graph's variable initializer) with the first session's variable values
  fed in, so both runs see the same weights and input batch and differ
  only in precision.
  """
  variables = tf.global_variables()
  values = session.run(variables)
  reduced = session.run(logits)
  initial_values = {variable.initializer.inputs[1]: value
                    for variable, value in zip(variables, values)}
  fp32_config = spec._replace(precision='fp32').session_config()
  with tf.Session(config=fp32_config) as fp32_session:
    fp32_session.run(initializer, feed_dict=initial_values)
    full = fp32_session.run(logits)
  return max_relative_deviation(reduced, full)


def peer_results(timings, project_name):
  """``PeerResult`` for every timed net, the project's first.

  The ratio is the median of the step-by-step ratios: a net's step and the
  project's step of the same interleaved round saw the same machine, so
  pairing them cancels drift that a ratio of two medians would keep.
  """
  project = timings[project_name].durations
  return tuple(
      spec_lib.PeerResult(name, result.mean, result.median, statistics.median(
          peer / ours for peer, ours in zip(result.durations, project)))
      for name, result in timings.items())

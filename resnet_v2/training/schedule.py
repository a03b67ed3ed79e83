"""Learning-rate schedules: cosine, step and constant, with linear warm-up.

  rate = learning_rate(0.1, 'cosine', global_step, max_steps=1000,
                       warmup_steps=50)

The rate is a function of the step alone, so a resumed run continues on
the same curve.
"""

import tensorflow as tf

LR_SCHEDULES = ('cosine', 'step', 'constant')


def learning_rate(base_rate: float, schedule: str, global_step,
                  max_steps: int, warmup_steps: int = 0) -> tf.Tensor:
  """The learning rate at ``global_step`` as a float32 tensor.

  'cosine' decays from ``base_rate`` to 0 over ``max_steps`` (Loshchilov &
  Hutter 2017); 'step' divides it by 10 after 50% and again after 75% of the run,
  the classic ResNet recipe; 'constant' keeps it. A linear warm-up over the
  first ``warmup_steps`` steps protects large rates from an early blow-up.
  """
  step = tf.cast(global_step, tf.float32)
  if schedule == 'cosine':
    progress = tf.minimum(step, float(max_steps)) / float(max_steps)
    rate = base_rate * 0.5 * (1.0 + tf.cos(3.141592653589793 * progress))
  elif schedule == 'step':
    rate = tf.where(step <= max_steps // 2, base_rate,
                    tf.where(step <= (max_steps * 3) // 4, base_rate * 0.1,
                             base_rate * 0.01))
  else:
    rate = tf.constant(base_rate, tf.float32)
  if warmup_steps:
    rate = rate * tf.minimum((step + 1.0) / float(warmup_steps), 1.0)
  return tf.cast(rate, tf.float32)

"""Weight initializers with TF-Slim's semantics.

    init = slim.variance_scaling_initializer(factor=2.0, mode='FAN_IN')  # He et al.
    net = slim.conv2d(images, 64, [3, 3], weights_initializer=init)

`xavier_initializer()` is the default `weights_initializer` of slim's layers.
An initializer is a function `(shape, dtype, partition_info)` -> tensor, the form
`tf.compat.v1.get_variable` calls.
"""
import math

import tensorflow as tf

__all__ = ['xavier_initializer', 'xavier_initializer_conv2d', 'variance_scaling_initializer']

_MODES = ('FAN_IN', 'FAN_OUT', 'FAN_AVG')


def xavier_initializer(uniform=True, seed=None, dtype=tf.float32):
  """Glorot & Bengio (2010): variance 1 / ((fan_in + fan_out) / 2), uniform by default."""
  return variance_scaling_initializer(factor=1.0, mode='FAN_AVG', uniform=uniform, seed=seed,
                                      dtype=dtype)


xavier_initializer_conv2d = xavier_initializer


def _fans(shape):
  """Fan-in and fan-out as TF-Slim estimated them: the last two dimensions are the
  input and output depths, and every leading (spatial) dimension multiplies both."""
  if not shape:
    return 1.0, 1.0
  fan_in = float(shape[-2]) if len(shape) > 1 else float(shape[-1])
  fan_out = float(shape[-1])
  for dim in shape[:-2]:
    fan_in *= float(dim)
    fan_out *= float(dim)
  return fan_in, fan_out


def variance_scaling_initializer(factor=2.0, mode='FAN_IN', uniform=False, seed=None,
                                 dtype=tf.float32):
  """Samples with variance `factor / n`, where n is fan-in, fan-out or their mean.

  Args:
    factor: the variance multiplier (2.0 for ReLU networks, He et al. 2015).
    mode: 'FAN_IN', 'FAN_OUT' or 'FAN_AVG'.
    uniform: sample from [-sqrt(3 factor / n), sqrt(3 factor / n)] if True; else from
      a normal with stddev sqrt(1.3 factor / n) truncated at two standard deviations
      (truncation shrinks the variance by about 1.3, so the result has variance
      close to factor / n, as in TF-Slim).
    seed: an integer seed for the random op.
    dtype: a floating point dtype.

  Returns:
    An initializer function.

  Raises:
    TypeError: `dtype` is not floating point or `mode` is unknown (TF-Slim's types).
  """
  dtype = tf.as_dtype(dtype)
  if not dtype.is_floating:
    raise TypeError(f'variance_scaling_initializer: dtype must be floating point, got '
                    f'{dtype.name}.')
  if mode not in _MODES:
    raise TypeError(f'variance_scaling_initializer: unknown mode {mode!r}; use one of '
                    f'{", ".join(_MODES)}.')

  def _initializer(shape, dtype=dtype, partition_info=None):
    del partition_info  # Fans are computed from the shape of the slice, as TF-Slim did.
    dtype = tf.as_dtype(dtype)
    if not dtype.is_floating:
      raise TypeError(f'variance_scaling_initializer: cannot initialize a {dtype.name} '
                      'variable; it needs a floating point dtype.')
    shape = [int(d) for d in shape]
    fan_in, fan_out = _fans(shape)
    n = {'FAN_IN': fan_in, 'FAN_OUT': fan_out, 'FAN_AVG': (fan_in + fan_out) / 2.0}[mode]
    if uniform:
      limit = math.sqrt(3.0 * factor / n)
      return tf.random.uniform(shape, -limit, limit, dtype=dtype, seed=seed)
    stddev = math.sqrt(1.3 * factor / n)
    return tf.random.truncated_normal(shape, 0.0, stddev, dtype=dtype, seed=seed)

  return _initializer

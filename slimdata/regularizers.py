"""Weight regularizers: functions from a weight tensor to a scalar loss.

    net = slim.conv2d(images, 64, [3, 3], weights_regularizer=slim.l2_regularizer(0.0005))
    total = tf.add_n(tf.compat.v1.get_collection(tf.compat.v1.GraphKeys.REGULARIZATION_LOSSES))

Layers hand them to `get_variable`, which adds the loss to REGULARIZATION_LOSSES
when it creates the variable. A scale of 0.0 returns a regularizer that returns
None, which `get_variable` ignores (TF-Slim's convention).
"""
import logging
import numbers

import tensorflow as tf

__all__ = [
    'l1_regularizer', 'l2_regularizer', 'l1_l2_regularizer', 'sum_regularizer',
    'apply_regularization'
]

_v1 = tf.compat.v1


def _check_scale(scale, arg_name, function_name):
  """Validates a scale; returns True if it disables the regularizer (0.0)."""
  # Integers are rejected as TF-Slim did: `l2_regularizer(1)` was almost always a typo.
  if isinstance(scale, numbers.Integral):
    raise ValueError(f'{function_name}: {arg_name} must be a float, got the integer {scale}.')
  if isinstance(scale, numbers.Real):
    if scale < 0.0:
      raise ValueError(f'{function_name}: {arg_name} must be >= 0, got {scale:g}.')
    if scale == 0.0:
      logging.info('%s: a %s of 0 disables the regularizer.', function_name, arg_name)
      return True
  return False


def l1_regularizer(scale, scope=None):
  """Returns `weights -> scale * sum(|weights|)`."""
  if _check_scale(scale, 'scale', 'l1_regularizer'):
    return lambda _: None

  def l1(weights, name=None):
    del name  # Accepted for TF-Slim compatibility; the name scope names the op.
    with tf.name_scope(scope or 'l1_regularizer') as op_name:
      my_scale = tf.convert_to_tensor(scale, dtype=weights.dtype.base_dtype, name='scale')
      return tf.multiply(my_scale, tf.reduce_sum(tf.abs(weights)), name=op_name)

  return l1


def l2_regularizer(scale, scope=None):
  """Returns `weights -> scale * sum(weights ** 2) / 2` (`tf.nn.l2_loss`)."""
  if _check_scale(scale, 'scale', 'l2_regularizer'):
    return lambda _: None

  def l2(weights):
    with tf.name_scope(scope or 'l2_regularizer') as op_name:
      my_scale = tf.convert_to_tensor(scale, dtype=weights.dtype.base_dtype, name='scale')
      return tf.multiply(my_scale, tf.nn.l2_loss(weights), name=op_name)

  return l2


def l1_l2_regularizer(scale_l1=1.0, scale_l2=1.0, scope=None):
  """Returns the sum of an L1 and an L2 regularizer."""
  scale_l1_off = _check_scale(scale_l1, 'scale_l1', 'l1_l2_regularizer')
  scale_l2_off = _check_scale(scale_l2, 'scale_l2', 'l1_l2_regularizer')
  scope = scope or 'l1_l2_regularizer'
  if scale_l1_off:
    return l2_regularizer(scale_l2, scope)
  if scale_l2_off:
    return l1_regularizer(scale_l1, scope)
  return sum_regularizer([l1_regularizer(scale_l1), l2_regularizer(scale_l2)], scope=scope)


def sum_regularizer(regularizer_list, scope=None):
  """Returns a regularizer adding the (non-None) results of `regularizer_list`, or None
  if the list holds no regularizer."""
  regularizer_list = [reg for reg in regularizer_list if reg is not None]
  if not regularizer_list:
    return None

  def sum_reg(weights):
    with tf.name_scope(scope or 'sum_regularizer') as op_name:
      tensors = [t for t in (reg(weights) for reg in regularizer_list) if t is not None]
      return tf.add_n(tensors, name=op_name) if tensors else None

  return sum_reg


def apply_regularization(regularizer, weights_list=None):
  """Sums `regularizer` over `weights_list` (default: the WEIGHTS collection) and adds
  the sum to REGULARIZATION_LOSSES.

  Raises:
    ValueError: there are no weights, or the regularizer does not return scalars.
  """
  if not weights_list:
    weights_list = _v1.get_collection(_v1.GraphKeys.WEIGHTS)
  if not weights_list:
    raise ValueError('apply_regularization: no weights to regularize; pass weights_list or '
                     'add variables to the WEIGHTS collection.')
  with tf.name_scope('get_regularization_penalty') as op_name:
    penalties = [regularizer(w) for w in weights_list]
    penalties = [p if p is not None else tf.constant(0.0) for p in penalties]
    for p in penalties:
      if p.get_shape().ndims != 0:
        raise ValueError('apply_regularization: the regularizer must return a scalar, got a '
                         f'tensor of rank {p.get_shape().ndims}.')
    summed_penalty = tf.add_n(penalties, name=op_name)
  _v1.add_to_collection(_v1.GraphKeys.REGULARIZATION_LOSSES, summed_penalty)
  return summed_penalty

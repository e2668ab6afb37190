"""Core layers: fully connected, bias, dropout, flatten, softmax and friends.

    net = slim.flatten(net)
    net = slim.fully_connected(net, 500, scope='fc3')     # fc3/weights [in, 500], fc3/biases
    net = slim.dropout(net, 0.5, is_training=is_training)
"""
import functools
import numbers

import tensorflow as tf

from slimdata import initializers
import slimdata.utils as utils
from slimdata.layers import _common
from slimdata.scopes import add_arg_scope

__all__ = [
    'bias_add', 'dropout', 'elu', 'flatten', 'fully_connected', 'linear', 'one_hot_encoding',
    'relu', 'relu6', 'softmax', 'unit_norm'
]

_v1 = tf.compat.v1


@add_arg_scope
def bias_add(inputs, activation_fn=None, initializer=tf.zeros_initializer(), regularizer=None,
             reuse=None, variables_collections=None, outputs_collections=None, trainable=True,
             data_format=_common.NHWC, scope=None):
  """Adds a `biases` variable (one per channel), then the activation; scope 'BiasAdd'.

  Raises:
    ValueError: bad `data_format`, NCHW with inputs not of rank 4, or unknown channels.
  """
  _common.check_data_format(data_format, (_common.NHWC, _common.NCHW), 'bias_add')
  with _v1.variable_scope(scope, 'BiasAdd', [inputs], reuse=reuse) as sc:
    inputs = tf.convert_to_tensor(inputs)
    rank = inputs.shape.rank
    if rank is None:
      raise ValueError(f'bias_add ({sc.name}): the rank of the inputs must be known.')
    if rank != 4 and data_format == _common.NCHW:
      raise ValueError(f'bias_add ({sc.name}): data_format NCHW needs inputs of rank 4, got '
                       f'shape {inputs.shape}.')
    num_features = utils.channel_dimension(inputs.shape, data_format, min_rank=1)
    biases = _common.model_weight(
        'biases', shape=[num_features], dtype=inputs.dtype.base_dtype, initializer=initializer,
        regularizer=regularizer, variables_collections=variables_collections,
        trainable=trainable)
    outputs = tf.nn.bias_add(inputs, biases, data_format=data_format)
    return _common.finish(outputs, activation_fn=activation_fn,
                          outputs_collections=outputs_collections, alias=sc.name)


@add_arg_scope
def fully_connected(inputs, num_outputs, activation_fn=tf.nn.relu, normalizer_fn=None,
                    normalizer_params=None,
                    weights_initializer=initializers.xavier_initializer(),
                    weights_regularizer=None, biases_initializer=tf.zeros_initializer(),
                    biases_regularizer=None, reuse=None, variables_collections=None,
                    outputs_collections=None, trainable=True, scope=None):
  """`activation(normalizer(inputs @ weights + biases))` over the last dimension.

  Inputs of rank > 2 are multiplied along their last dimension (all others kept).
  Variables `weights` `[in, num_outputs]` and `biases`; scope 'fully_connected'.
  Other arguments as `slim.convolution`.

  Raises:
    ValueError: `num_outputs` is not an int, or the last dimension is unknown.
  """
  if not isinstance(num_outputs, numbers.Integral) or isinstance(num_outputs, bool):
    raise ValueError(f'fully_connected: num_outputs must be an int, got {num_outputs!r}.')
  num_outputs = int(num_outputs)
  with _v1.variable_scope(scope, 'fully_connected', [inputs], reuse=reuse) as sc:
    inputs = tf.convert_to_tensor(inputs)
    num_inputs = utils.last_dimension(inputs.shape, min_rank=2)
    weights = _common.model_weight(
        'weights', shape=[num_inputs, num_outputs], dtype=inputs.dtype.base_dtype,
        initializer=weights_initializer, regularizer=weights_regularizer,
        variables_collections=variables_collections, trainable=trainable)
    if inputs.shape.rank == 2:
      outputs = tf.matmul(inputs, weights)
    else:
      outputs = tf.tensordot(inputs, weights, [[inputs.shape.rank - 1], [0]])
      outputs.set_shape(inputs.shape[:-1].concatenate([num_outputs]))
    if _common.use_bias(normalizer_fn, biases_initializer):
      biases = _common.model_weight(
          'biases', shape=[num_outputs], dtype=inputs.dtype.base_dtype,
          initializer=biases_initializer, regularizer=biases_regularizer,
          variables_collections=variables_collections, trainable=trainable)
      outputs = tf.nn.bias_add(outputs, biases)
    return _common.finish(outputs, normalizer_fn=normalizer_fn,
                          normalizer_params=normalizer_params, activation_fn=activation_fn,
                          outputs_collections=outputs_collections, alias=sc.name)


@add_arg_scope
def dropout(inputs, keep_prob=0.5, noise_shape=None, is_training=True, outputs_collections=None,
            scope=None, seed=None):
  """Keeps each element with probability `keep_prob` (scaled by 1 / keep_prob) in training.

  Args:
    inputs: a tensor.
    keep_prob: the probability to keep an element.
    noise_shape: the shape of the keep/drop mask, broadcast to the inputs; None entries
      take the inputs' dimension.
    is_training: a bool or a boolean tensor; when false the inputs pass unchanged.
    outputs_collections, scope: as the other layers; scope 'Dropout'.
    seed: the op seed.
  """
  with _v1.variable_scope(scope, 'Dropout', [inputs]) as sc:
    inputs = tf.convert_to_tensor(inputs)
    if noise_shape is not None and not isinstance(noise_shape, tf.Tensor):
      dims = tf.unstack(tf.shape(inputs)) if None in list(noise_shape) else None
      noise_shape = [dims[i] if d is None else d for i, d in enumerate(noise_shape)]

    def dropped():
      return tf.nn.dropout(inputs, rate=1 - keep_prob, noise_shape=noise_shape, seed=seed)

    outputs = utils.smart_cond(is_training, dropped, lambda: tf.identity(inputs))
    return utils.collect_named_outputs(outputs_collections, sc.name, outputs)


@add_arg_scope
def flatten(inputs, outputs_collections=None, scope=None):
  """Reshapes `[batch, d1, d2, ...]` to `[batch, d1 * d2 * ...]` (rank 1 becomes [batch, 1])."""
  with _v1.name_scope(scope, 'Flatten', [inputs]) as sc:
    inputs = tf.convert_to_tensor(inputs)
    if inputs.shape.rank is None:
      raise ValueError(f'flatten ({sc}): the rank of the inputs must be known.')
    if inputs.shape.rank == 1:
      inputs = tf.expand_dims(inputs, 1)
    batch = inputs.shape[0]
    outputs = tf.reshape(inputs, [batch if batch is not None else tf.shape(inputs)[0], -1])
    inner = inputs.shape[1:]
    outputs.set_shape([batch, inner.num_elements() if inner.is_fully_defined() else None])
    return utils.collect_named_outputs(outputs_collections, sc, outputs)


@add_arg_scope
def one_hot_encoding(labels, num_classes, on_value=1.0, off_value=0.0, outputs_collections=None,
                     scope=None):
  """One-hot vectors of `num_classes` for integer `labels`."""
  with _v1.name_scope(scope, 'OneHotEncoding', [labels, num_classes]) as sc:
    labels = tf.convert_to_tensor(labels)
    if labels.dtype == tf.int32:
      labels = tf.cast(labels, tf.int64)
    outputs = tf.one_hot(labels, num_classes, on_value=on_value, off_value=off_value)
    return utils.collect_named_outputs(outputs_collections, sc, outputs)


@add_arg_scope
def softmax(logits, scope=None):
  """Softmax over the last dimension of `logits` of any rank >= 2."""
  with _v1.variable_scope(scope, 'softmax', [logits]):
    logits = tf.convert_to_tensor(logits)
    num_logits = utils.last_dimension(logits.shape, min_rank=2)
    predictions = tf.nn.softmax(tf.reshape(logits, [-1, num_logits]))
    predictions = tf.reshape(predictions, tf.shape(logits))
    predictions.set_shape(logits.shape)
    return predictions


@add_arg_scope
def unit_norm(inputs, dim, epsilon=1e-7, scope=None):
  """Divides `inputs` by its L2 norm along `dim`: `x / sqrt(epsilon + sum(x ** 2, dim))`.

  Raises:
    ValueError: the rank is unknown or `dim` is not in [0, rank).
  """
  with _v1.variable_scope(scope, 'UnitNorm', [inputs]):
    inputs = tf.convert_to_tensor(inputs)
    rank = inputs.shape.rank
    if rank is None:
      raise ValueError('unit_norm: the rank of the inputs must be known.')
    if dim < 0 or dim >= rank:
      raise ValueError(f'unit_norm: dim must be in [0, {rank}) for inputs of rank {rank}, got '
                       f'{dim}.')
    lengths = tf.sqrt(epsilon + tf.reduce_sum(tf.square(inputs), dim, keepdims=True))
    return inputs / lengths


# TF-Slim's shorthands for fully connected layers with a given activation.
elu = functools.partial(fully_connected, activation_fn=tf.nn.elu)
linear = functools.partial(fully_connected, activation_fn=None)
relu = functools.partial(fully_connected, activation_fn=tf.nn.relu)
relu6 = functools.partial(fully_connected, activation_fn=tf.nn.relu6)

"""Batch normalization (Ioffe & Szegedy, 2015) and layer normalization (Ba et al., 2016).

    with slim.arg_scope([slim.conv2d], normalizer_fn=slim.batch_norm,
                        normalizer_params={'is_training': is_training, 'decay': 0.997}):
      net = slim.conv2d(images, 64, [3, 3], scope='conv1')  # conv1/BatchNorm/moving_mean...

In training, batch_norm's moving averages are updated by ops placed in
UPDATE_OPS (run them with the train op: `slim.learning.create_train_op` does),
or in place when `updates_collections=None`.
"""
import collections

import tensorflow as tf

import slimdata.utils as utils
from slimdata.layers import _common
from slimdata.scopes import add_arg_scope

__all__ = ['batch_norm', 'layer_norm']

_v1 = tf.compat.v1


def _moving_average_update(variable, value, decay, name):
  """`variable -= (variable - value) * (1 - decay)`, as tf.train's assign_moving_average."""
  with tf.name_scope(name):
    delta = (variable - tf.cast(value, variable.dtype)) * (1.0 - decay)
    return _assigned(variable, variable.assign_sub(delta, read_value=False))


def _assigned(variable, assign_op):
  """The variable's value after `assign_op`: a plain tensor, usable in UPDATE_OPS and cond."""
  with tf.control_dependencies([assign_op]):
    return variable.read_value()


def _zero_debias_variables(variable):
  """The biased average and step count of a zero-debiased moving average.

  Named `<scope>/<scope>/moving_mean/{biased,local_step}` like TF-Slim's (TF's
  assign_moving_average opened the variable's full name as a nested scope), so
  checkpoints interchange.
  """
  with _v1.variable_scope(variable.op.name):
    biased = _v1.get_variable('biased', shape=variable.shape, dtype=variable.dtype,
                              initializer=tf.zeros_initializer(), trainable=False)
    local_step = _v1.get_variable('local_step', shape=[], dtype=variable.dtype,
                                  initializer=tf.zeros_initializer(), trainable=False)
  return biased, local_step


def _zero_debiased_update(variable, value, decay, debias_variables, name):
  """Moving-average update with zero debiasing: stores `biased / (1 - decay^step)`."""
  biased, local_step = debias_variables
  with tf.name_scope(name):
    update_biased = biased.assign_sub((biased - tf.cast(value, biased.dtype)) * (1.0 - decay))
    step = local_step.assign_add(1.0)
    bias_factor = 1.0 - tf.pow(tf.cast(decay, variable.dtype), step)
    return _assigned(variable, variable.assign(update_biased / bias_factor, read_value=False))


def _param_dtype(dtype):
  # Half-precision inputs keep float32 parameters, as TF-Slim's (fused, Keras) path did.
  return tf.float32 if dtype in (tf.float16, tf.bfloat16) else dtype


@add_arg_scope
def batch_norm(inputs, decay=0.999, center=True, scale=False, epsilon=0.001, activation_fn=None,
               param_initializers=None, param_regularizers=None,
               updates_collections=_v1.GraphKeys.UPDATE_OPS, is_training=True, reuse=None,
               variables_collections=None, outputs_collections=None, trainable=True,
               batch_weights=None, fused=None, data_format=_common.NHWC,
               zero_debias_moving_mean=False, scope=None, renorm=False, renorm_clipping=None,
               renorm_decay=0.99, adjustment=None):
  """Normalizes each channel by the batch's (training) or the moving (inference) statistics.

  Variables (scope 'BatchNorm'): `beta` (if `center`), `gamma` (if `scale`),
  `moving_mean` and `moving_variance` (not trainable), all model variables; with
  `renorm` also `moving_stddev`, `renorm_mean` and `renorm_stddev`.

  Args:
    inputs: a tensor of rank >= 2 whose first dimension is the batch.
    decay: the moving averages' decay (0.999; try 0.9 or 0.99 when evaluation lags).
    center: add `beta`.
    scale: multiply by `gamma` (off by default: a following ReLU/linear layer can scale).
    epsilon: added to the variance.
    activation_fn: applied to the output; None for none.
    param_initializers: optional initializers for 'beta', 'gamma', 'moving_mean',
      'moving_variance'.
    param_regularizers: optional regularizers for 'beta' and 'gamma'.
    updates_collections: where the moving-average update ops go; None runs them in
      place (a control dependency of the output).
    is_training: a bool or a boolean tensor: batch statistics and updates if true,
      moving statistics if false.
    reuse, variables_collections, outputs_collections, trainable, scope: as other layers.
    batch_weights: optional `[batch]` weights for weighted moments.
    fused: None or True use the fused kernel for inputs of rank 2, 4 or 5 (it
      updates the moving variance with the unbiased batch variance, as TF-Slim's
      default did); False, and other ranks, compute moments (biased variance).
    data_format: 'NHWC' (channels last) or 'NCHW' (channels second).
    zero_debias_moving_mean: zero-debias the moving mean (adds `moving_mean/biased`
      and `moving_mean/local_step`).
    renorm: use Batch Renormalization (Ioffe, 2017): in training the normalized
      values are corrected by `r = stddev / renorm_stddev` and
      `d = (mean - renorm_mean) / renorm_stddev` (no gradient through r and d),
      where renorm_mean/renorm_stddev are moving averages with `renorm_decay`.
      Inference is unchanged. Implies fused=False.
    renorm_clipping: optional dict of 'rmin', 'rmax', 'dmax' clipping r to
      [rmin, rmax] and d to [-dmax, dmax].
    renorm_decay: the decay of renorm_mean and renorm_stddev.
    adjustment: not supported; anything but None raises NotImplementedError.

  Returns:
    The normalized tensor, of the inputs' shape and dtype.

  Raises:
    ValueError: bad `data_format`, unknown rank or channels dimension.
    NotImplementedError: `adjustment` was given.
  """
  if adjustment is not None:
    raise NotImplementedError('batch_norm: adjustment is not supported by slimdata; leave '
                              'adjustment=None.')
  renorm_clipping = dict(renorm_clipping or {})
  unknown = set(renorm_clipping) - {'rmin', 'rmax', 'dmax'}
  if unknown:
    raise ValueError(f'batch_norm: renorm_clipping keys must be rmin, rmax, dmax; got '
                     f'{sorted(unknown)}.')
  _common.check_data_format(data_format, (_common.NHWC, _common.NCHW), 'batch_norm')
  with _v1.variable_scope(scope, 'BatchNorm', [inputs], reuse=reuse) as sc:
    inputs = tf.convert_to_tensor(inputs)
    original_shape = inputs.shape
    rank = original_shape.rank
    if rank is None:
      raise ValueError(f'batch_norm ({sc.name}): inputs {inputs.name} have an unknown rank.')
    if rank < 2:
      raise ValueError(f'batch_norm ({sc.name}): inputs need rank >= 2, got shape '
                       f'{original_shape}.')
    first = data_format == _common.NCHW
    channel_axis = 1 if first else rank - 1
    channels = original_shape[channel_axis]
    if channels is None:
      raise ValueError(f'batch_norm ({sc.name}): the channels dimension of {inputs.name} '
                       f'must be known, got shape {original_shape}.')
    params_shape = [channels]
    dtype = _param_dtype(inputs.dtype.base_dtype)
    param_initializers = param_initializers or {}
    param_regularizers = param_regularizers or {}

    def param(name, default_initializer, is_trainable, regularizer=None):
      return _common.model_weight(
          name, shape=params_shape, dtype=dtype,
          initializer=param_initializers.get(name, default_initializer),
          regularizer=regularizer, variables_collections=variables_collections,
          trainable=is_trainable)

    beta = gamma = None
    if center:
      beta = param('beta', tf.zeros_initializer(), trainable, param_regularizers.get('beta'))
    if scale:
      gamma = param('gamma', tf.ones_initializer(), trainable, param_regularizers.get('gamma'))
    # Moving statistics are never partitioned (TF-Slim cleared the partitioner too).
    with _v1.variable_scope(_v1.get_variable_scope()) as local_scope:
      local_scope.set_partitioner(None)
      moving_mean = param('moving_mean', tf.zeros_initializer(), False)
      moving_variance = param('moving_variance', tf.ones_initializer(), False)
      renorm_vars = _renorm_variables(param, param_initializers) if renorm else None

    use_fused = ((fused is None or fused) and not renorm and rank in (2, 4, 5) and
                 batch_weights is None and
                 inputs.dtype.base_dtype in (tf.float16, tf.bfloat16, tf.float32))
    training_value = utils.constant_value(is_training)
    need_moments = training_value is None or bool(training_value)

    if use_fused:
      outputs, mean, variance = _fused(inputs, gamma, beta, moving_mean, moving_variance,
                                       epsilon=epsilon, first=first, is_training=is_training,
                                       need_moments=need_moments, dtype=dtype)
      correction = None
    else:
      outputs, mean, variance, correction = _moments_normalize(
          inputs, gamma, beta, moving_mean, moving_variance, epsilon=epsilon,
          channel_axis=channel_axis, is_training=is_training, need_moments=need_moments,
          batch_weights=batch_weights, dtype=dtype, renorm_vars=renorm_vars,
          renorm_clipping=renorm_clipping)

    if need_moments:
      debias_variables = None
      if zero_debias_moving_mean:
        debias_variables = _zero_debias_variables(moving_mean)

      def update_stats():
        return _update_moving_statistics(
            moving_mean, moving_variance, mean, variance, decay=decay, epsilon=epsilon,
            debias_variables=debias_variables, renorm_vars=renorm_vars,
            renorm_decay=renorm_decay, correction=correction)

      if updates_collections is None:
        def forced():
          with tf.control_dependencies(update_stats()):
            return tf.identity(outputs)

        outputs = utils.smart_cond(is_training, forced, lambda: outputs)
      else:
        new_mean, new_variance = utils.smart_cond(
            is_training, update_stats, lambda: (moving_mean.read_value(),
                                                moving_variance.read_value()))
        if isinstance(updates_collections, str):
          updates_collections = [updates_collections]
        _v1.add_to_collections(updates_collections, new_mean)
        _v1.add_to_collections(updates_collections, new_variance)

    outputs.set_shape(original_shape)
    return _common.finish(outputs, activation_fn=activation_fn,
                          outputs_collections=outputs_collections, alias=sc.name)


def _update_moving_statistics(moving_mean, moving_variance, mean, variance, *, decay, epsilon,
                              debias_variables, renorm_vars, renorm_decay, correction):
  """Moving-average updates of the statistics; returns the new mean and variance."""
  renorm_updates = []
  if renorm_vars is not None:
    renorm_updates = _renorm_updates(renorm_vars, mean, variance, correction,
                                     epsilon=epsilon, renorm_decay=renorm_decay)
  with tf.control_dependencies(renorm_updates):
    if debias_variables is not None:
      new_mean = _zero_debiased_update(moving_mean, mean, decay, debias_variables,
                                       'AssignMovingAvg')
    else:
      new_mean = _moving_average_update(moving_mean, mean, decay, 'AssignMovingAvg')
    if renorm_vars is None:
      new_variance = _moving_average_update(moving_variance, variance, decay,
                                            'AssignMovingAvg_1')
    else:
      # Renorm tracks the standard deviation and derives the variance from it (as Keras).
      new_stddev = _moving_average_update(renorm_vars.moving_stddev,
                                          tf.sqrt(variance + epsilon), decay, 'AssignMovingAvg_1')
      new_variance = _assigned(moving_variance, moving_variance.assign(
          tf.nn.relu(new_stddev * new_stddev - epsilon), read_value=False))
  return new_mean, new_variance


def _fused(inputs, gamma, beta, moving_mean, moving_variance, *, epsilon, first, is_training,
           need_moments, dtype):
  """Normalizes with the fused kernel; rank 2 and 5 inputs go through a rank-4 view."""
  original_rank = inputs.shape.rank
  x = inputs
  if original_rank != 4:
    channels = moving_mean.shape[0]
    batch = tf.shape(inputs)[0]
    x = tf.reshape(inputs, [batch, channels, -1, 1] if first else [batch, -1, 1, channels])
  fmt = _common.NCHW if first else _common.NHWC
  ones = tf.ones(moving_mean.shape, dtype)
  zeros = tf.zeros(moving_mean.shape, dtype)
  gamma_t = gamma if gamma is not None else ones
  beta_t = beta if beta is not None else zeros

  def training():
    return tf.compat.v1.nn.fused_batch_norm(x, gamma_t, beta_t, epsilon=epsilon,
                                            data_format=fmt, is_training=True)

  def inference():
    return tf.compat.v1.nn.fused_batch_norm(x, gamma_t, beta_t, mean=moving_mean,
                                            variance=moving_variance, epsilon=epsilon,
                                            data_format=fmt, is_training=False)

  if need_moments:
    outputs, mean, variance = utils.smart_cond(is_training, training, inference)
  else:
    outputs, mean, variance = inference()
  if original_rank != 4:
    outputs = tf.reshape(outputs, tf.shape(inputs))
  return outputs, mean, variance


def _moments_normalize(inputs, gamma, beta, moving_mean, moving_variance, *, epsilon,
                       channel_axis, is_training, need_moments, batch_weights, dtype,
                       renorm_vars=None, renorm_clipping=None):
  """Normalizes with `tf.nn.moments` (or weighted moments) over all but the channel axis.

  Returns outputs, batch mean and variance (None without moments), and the renorm
  correction `(r, d)` (None without renorm).
  """
  rank = inputs.shape.rank
  axes = [a for a in range(rank) if a != channel_axis]
  broadcast = [1] * rank
  broadcast[channel_axis] = -1
  x = tf.cast(inputs, dtype)
  correction = None
  scale, offset = gamma, beta
  if need_moments:
    if batch_weights is None:
      mean, variance = tf.nn.moments(x, axes)
    else:
      weights = tf.reshape(tf.cast(batch_weights, dtype), [-1] + [1] * (rank - 1))
      mean, variance = tf.nn.weighted_moments(x, axes, weights)
    used_mean, used_variance = utils.smart_cond(
        is_training, lambda: (mean, variance),
        lambda: (moving_mean.read_value(), moving_variance.read_value()))
    if renorm_vars is not None:
      correction = _renorm_correction(renorm_vars, mean, variance, epsilon=epsilon,
                                      clipping=renorm_clipping, is_training=is_training)
      # (x_hat * r + d) * gamma + beta == x_hat * (r * gamma) + (d * gamma + beta).
      r, d = correction
      scale = r if gamma is None else r * gamma
      d_scaled = d if gamma is None else d * gamma
      offset = d_scaled if beta is None else d_scaled + beta
  else:
    mean = variance = None
    used_mean, used_variance = moving_mean.read_value(), moving_variance.read_value()

  def shaped(t):
    return None if t is None else tf.reshape(t, broadcast)

  outputs = tf.nn.batch_normalization(x, shaped(used_mean), shaped(used_variance),
                                      shaped(offset), shaped(scale), epsilon)
  return tf.cast(outputs, inputs.dtype), mean, variance, correction


_RenormVariables = collections.namedtuple('_RenormVariables',
                                          ['moving_stddev', 'renorm_mean', 'renorm_stddev'])


def _renorm_variables(param, param_initializers):
  """Batch renorm's extra statistics, named and initialized as in TF-Slim (via Keras)."""
  variance_init = param_initializers.get('moving_variance', tf.ones_initializer())
  mean_init = param_initializers.get('moving_mean', tf.zeros_initializer())

  def stddev_init(shape, dtype=None, partition_info=None):
    del partition_info
    return tf.sqrt(variance_init(shape, dtype=dtype))

  moving_stddev = param('moving_stddev', stddev_init, False)
  renorm_mean = param('renorm_mean', mean_init, False)
  renorm_stddev = param('renorm_stddev', stddev_init, False)
  return _RenormVariables(moving_stddev, renorm_mean, renorm_stddev)


def _renorm_correction(renorm_vars, mean, variance, *, epsilon, clipping, is_training):
  """`(r, d)` from the batch moments and the renorm averages; (1, 0) when not training."""
  stddev = tf.sqrt(variance + epsilon)
  # Avoid dividing by zero early in training.
  renorm_stddev = tf.maximum(renorm_vars.renorm_stddev.read_value(), tf.sqrt(epsilon))
  r = stddev / renorm_stddev
  d = (mean - renorm_vars.renorm_mean.read_value()) / renorm_stddev
  if clipping.get('rmin') is not None:
    r = tf.maximum(r, clipping['rmin'])
  if clipping.get('rmax') is not None:
    r = tf.minimum(r, clipping['rmax'])
  if clipping.get('dmax') is not None:
    d = tf.clip_by_value(d, -clipping['dmax'], clipping['dmax'])
  r = tf.stop_gradient(r, name='renorm_r')
  d = tf.stop_gradient(d, name='renorm_d')
  return utils.smart_cond(is_training, lambda: (r, d),
                          lambda: (tf.ones_like(r), tf.zeros_like(d)))


def _renorm_updates(renorm_vars, mean, variance, correction, *, epsilon, renorm_decay):
  """Moving-average updates of renorm_mean and renorm_stddev, after r and d are computed
  (so the correction uses the averages from before this step)."""
  with tf.control_dependencies(list(correction)):
    return [
        _moving_average_update(renorm_vars.renorm_mean, mean, renorm_decay, 'AssignRenormMean'),
        _moving_average_update(renorm_vars.renorm_stddev, tf.sqrt(variance + epsilon),
                               renorm_decay, 'AssignRenormStddev'),
    ]


@add_arg_scope
def layer_norm(inputs, center=True, scale=True, activation_fn=None, reuse=None,
               variables_collections=None, outputs_collections=None, trainable=True,
               begin_norm_axis=1, begin_params_axis=-1, scope=None):
  """Normalizes over dimensions `begin_norm_axis:`; `beta`/`gamma` span `begin_params_axis:`.

  Scope 'LayerNorm'; variance epsilon 1e-12 (1e-3 for float16), as TF-Slim.

  Raises:
    ValueError: unknown rank, axes out of range, or parameter dimensions unknown.
  """
  with _v1.variable_scope(scope, 'LayerNorm', [inputs], reuse=reuse) as sc:
    inputs = tf.convert_to_tensor(inputs)
    shape = inputs.shape
    rank = shape.rank
    if rank is None:
      raise ValueError(f'layer_norm ({sc.name}): inputs {inputs.name} have an unknown rank.')
    dtype = inputs.dtype.base_dtype
    if begin_norm_axis < 0:
      begin_norm_axis = rank + begin_norm_axis
    if begin_params_axis >= rank or begin_norm_axis >= rank:
      raise ValueError(f'layer_norm ({sc.name}): begin_params_axis ({begin_params_axis}) and '
                       f'begin_norm_axis ({begin_norm_axis}) must be < rank(inputs) ({rank}).')
    params_shape = shape[begin_params_axis:]
    if not params_shape.is_fully_defined():
      raise ValueError(f'layer_norm ({sc.name}): shape(inputs)[{begin_params_axis}:] is not '
                       f'fully defined: {shape}.')
    beta = gamma = None
    if center:
      beta = _common.model_weight('beta', shape=params_shape, dtype=dtype,
                                  initializer=tf.zeros_initializer(), regularizer=None,
                                  variables_collections=variables_collections,
                                  trainable=trainable)
    if scale:
      gamma = _common.model_weight('gamma', shape=params_shape, dtype=dtype,
                                   initializer=tf.ones_initializer(), regularizer=None,
                                   variables_collections=variables_collections,
                                   trainable=trainable)
    mean, variance = tf.nn.moments(inputs, list(range(begin_norm_axis, rank)), keepdims=True)
    variance_epsilon = 1e-12 if dtype != tf.float16 else 1e-3
    outputs = tf.nn.batch_normalization(inputs, mean, variance, offset=beta, scale=gamma,
                                        variance_epsilon=variance_epsilon)
    outputs.set_shape(shape)
    return _common.finish(outputs, activation_fn=activation_fn,
                          outputs_collections=outputs_collections, alias=sc.name)

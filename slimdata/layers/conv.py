"""Convolutions: plain (1-D, 2-D, 3-D, dilated), in-plane, transposed and separable.

    net = slim.conv2d(images, 64, [3, 3], stride=2, scope='conv1')         # conv1/weights, biases
    net = slim.separable_conv2d(net, 128, [3, 3], depth_multiplier=1)     # SeparableConv2d/...
    net = slim.conv2d_transpose(net, 32, [3, 3], stride=2)                # Conv2d_transpose/...

Variables are `weights` (kernel, `[*kernel_size, in, out]`) and `biases`, as in
TF-Slim; a layer with a `normalizer_fn` has no biases.
"""
import tensorflow as tf

from slimdata import initializers
import slimdata.utils as utils
from slimdata.layers import _common
from slimdata.scopes import add_arg_scope

__all__ = [
    'convolution', 'convolution1d', 'convolution2d', 'convolution3d', 'conv1d', 'conv2d',
    'conv3d', 'convolution2d_in_plane', 'conv2d_in_plane', 'convolution2d_transpose',
    'conv2d_transpose', 'convolution3d_transpose', 'conv3d_transpose', 'separable_convolution2d',
    'separable_conv2d'
]

_v1 = tf.compat.v1

_CONV_FORMATS = (None, 'NWC', 'NCW', 'NHWC', 'NCHW', 'NDHWC', 'NCDHW')


def _biases(outputs, num_outputs, *, data_format, biases_initializer, biases_regularizer,
            variables_collections, trainable):
  biases = _common.model_weight(
      'biases', shape=[num_outputs], dtype=outputs.dtype.base_dtype,
      initializer=biases_initializer, regularizer=biases_regularizer,
      variables_collections=variables_collections, trainable=trainable)
  return tf.nn.bias_add(outputs, biases, data_format=data_format)


@add_arg_scope
def convolution(inputs, num_outputs, kernel_size, stride=1, padding='SAME', data_format=None,
                rate=1, activation_fn=tf.nn.relu, normalizer_fn=None, normalizer_params=None,
                weights_initializer=initializers.xavier_initializer(), weights_regularizer=None,
                biases_initializer=tf.zeros_initializer(), biases_regularizer=None, reuse=None,
                variables_collections=None, outputs_collections=None, trainable=True,
                scope=None, conv_dims=None):
  """An N-D convolution (N = rank of `inputs` - 2: 1, 2 or 3), then normalizer and activation.

  Args:
    inputs: a tensor of rank 3, 4 or 5, channels last unless `data_format` starts with 'NC'.
    num_outputs: the number of filters.
    kernel_size: an int or a list of N ints.
    stride: an int or a list of N ints.
    padding: 'SAME' or 'VALID'.
    data_format: None (channels last) or one of 'NWC', 'NCW', 'NHWC', 'NCHW', 'NDHWC', 'NCDHW'.
    rate: the dilation rate, an int or N ints; with rate > 1 the stride must be 1.
    activation_fn: applied last; None for a linear layer.
    normalizer_fn: applied before the activation (e.g. `slim.batch_norm`); replaces biases.
    normalizer_params: keyword arguments for `normalizer_fn`.
    weights_initializer, weights_regularizer: for `weights`.
    biases_initializer, biases_regularizer: for `biases`; no biases if the initializer is None.
    reuse: reuse the variables of `scope`.
    variables_collections: a list of collections for all variables, or a dict
      `{'weights': [...], 'biases': [...]}`.
    outputs_collections: collections to add the output to (end points).
    trainable: add the variables to TRAINABLE_VARIABLES.
    scope: the variable scope; default 'Conv' (made unique: Conv_1, ...).
    conv_dims: if given, the number of spatial dimensions `inputs` must have.

  Returns:
    The output tensor.

  Raises:
    ValueError: bad `data_format`, or a rank other than 3, 4, 5 (or conv_dims + 2).
  """
  _common.check_data_format(data_format, _CONV_FORMATS, 'convolution')
  with _v1.variable_scope(scope, 'Conv', [inputs], reuse=reuse) as sc:
    inputs = tf.convert_to_tensor(inputs)
    rank = inputs.shape.rank
    if conv_dims is not None and rank != conv_dims + 2:
      raise ValueError(f'convolution{conv_dims}d ({sc.name}): expected inputs of rank '
                       f'{conv_dims + 2}, got shape {inputs.shape}.')
    if rank not in (3, 4, 5):
      raise ValueError(f'convolution ({sc.name}): inputs must have rank 3, 4 or 5 '
                       f'(1-D, 2-D or 3-D convolution), got shape {inputs.shape}.')
    spatial = rank - 2
    first = _common.channels_first(data_format)
    tf_format = _common.tf_data_format(rank, first)
    in_channels = utils.channel_dimension(inputs.shape, tf_format, min_rank=rank)
    kernel = utils.n_positive_integers(spatial, kernel_size)
    weights = _common.model_weight(
        'weights', shape=list(kernel) + [in_channels, num_outputs],
        dtype=inputs.dtype.base_dtype, initializer=weights_initializer,
        regularizer=weights_regularizer, variables_collections=variables_collections,
        trainable=trainable)
    outputs = tf.nn.convolution(
        inputs, weights, strides=utils.n_positive_integers(spatial, stride),
        padding=_common.padding_arg(padding, 'convolution'),
        dilations=utils.n_positive_integers(spatial, rate), data_format=tf_format)
    if _common.use_bias(normalizer_fn, biases_initializer):
      outputs = _biases(outputs, num_outputs, data_format=tf_format,
                        biases_initializer=biases_initializer,
                        biases_regularizer=biases_regularizer,
                        variables_collections=variables_collections, trainable=trainable)
    return _common.finish(outputs, normalizer_fn=normalizer_fn,
                          normalizer_params=normalizer_params, activation_fn=activation_fn,
                          outputs_collections=outputs_collections, alias=sc.name)


def _fixed_dims_convolution(conv_dims):
  """`convolution` restricted to `conv_dims` spatial dimensions, with its own arg_scope key
  (so `arg_scope([slim.conv2d], ...)` does not touch conv1d or conv3d)."""

  def conv(inputs, num_outputs, kernel_size, stride=1, padding='SAME', data_format=None,
           rate=1, activation_fn=tf.nn.relu, normalizer_fn=None, normalizer_params=None,
           weights_initializer=initializers.xavier_initializer(), weights_regularizer=None,
           biases_initializer=tf.zeros_initializer(), biases_regularizer=None, reuse=None,
           variables_collections=None, outputs_collections=None, trainable=True, scope=None):
    return convolution(
        inputs, num_outputs, kernel_size, stride=stride, padding=padding,
        data_format=data_format, rate=rate, activation_fn=activation_fn,
        normalizer_fn=normalizer_fn, normalizer_params=normalizer_params,
        weights_initializer=weights_initializer, weights_regularizer=weights_regularizer,
        biases_initializer=biases_initializer, biases_regularizer=biases_regularizer,
        reuse=reuse, variables_collections=variables_collections,
        outputs_collections=outputs_collections, trainable=trainable, scope=scope,
        conv_dims=conv_dims)

  conv.__name__ = conv.__qualname__ = f'convolution{conv_dims}d'
  conv.__doc__ = (f'A {conv_dims}-D `convolution`: inputs of rank {conv_dims + 2}; '
                  'arguments as `convolution`.')
  return add_arg_scope(conv)


convolution1d = _fixed_dims_convolution(1)
convolution2d = _fixed_dims_convolution(2)
convolution3d = _fixed_dims_convolution(3)


@add_arg_scope
def convolution2d_in_plane(inputs, kernel_size, stride=1, padding='SAME',
                           activation_fn=tf.nn.relu, normalizer_fn=None, normalizer_params=None,
                           weights_initializer=initializers.xavier_initializer(),
                           weights_regularizer=None, biases_initializer=tf.zeros_initializer(),
                           biases_regularizer=None, reuse=None, variables_collections=None,
                           outputs_collections=None, trainable=True, scope=None):
  """One `[kh, kw]` filter applied to every channel separately (NHWC; shared weights).

  Variables: `weights` `[kh, kw, 1, 1]` and `biases` (one per channel). Scope 'ConvInPlane'.
  """
  with _v1.variable_scope(scope, 'ConvInPlane', [inputs], reuse=reuse) as sc:
    inputs = tf.convert_to_tensor(inputs)
    dtype = inputs.dtype.base_dtype
    kernel_h, kernel_w = utils.two_element_tuple(kernel_size)
    stride_h, stride_w = utils.two_element_tuple(stride)
    num_filters_in = utils.last_dimension(inputs.shape, min_rank=4)
    weights = _common.model_weight(
        'weights', shape=[kernel_h, kernel_w, 1, 1], dtype=dtype,
        initializer=weights_initializer, regularizer=weights_regularizer,
        variables_collections=variables_collections, trainable=trainable)
    depthwise_weights = tf.tile(weights, [1, 1, num_filters_in, 1])
    outputs = tf.nn.depthwise_conv2d(inputs, depthwise_weights, [1, stride_h, stride_w, 1],
                                     _common.padding_arg(padding, 'convolution2d_in_plane'))
    if normalizer_fn is None and biases_initializer is not None:
      outputs = _biases(outputs, num_filters_in, data_format='NHWC',
                        biases_initializer=biases_initializer,
                        biases_regularizer=biases_regularizer,
                        variables_collections=variables_collections, trainable=trainable)
    return _common.finish(outputs, normalizer_fn=normalizer_fn,
                          normalizer_params=normalizer_params, activation_fn=activation_fn,
                          outputs_collections=outputs_collections, alias=sc.name)


def _deconv_length(length, kernel, stride, padding):
  """Output length of a transposed convolution (Keras' rule without output_padding)."""
  if padding == 'VALID':
    return length * stride + max(kernel - stride, 0)
  return length * stride


def _convolution_transpose(inputs, num_outputs, kernel_size, *, spatial, stride, padding,
                           data_format, activation_fn, normalizer_fn, normalizer_params,
                           weights_initializer, weights_regularizer, biases_initializer,
                           biases_regularizer, reuse, variables_collections,
                           outputs_collections, trainable, scope, default_name, layer):
  formats = (_common.NHWC, _common.NCHW) if spatial == 2 else (_common.NDHWC, _common.NCDHW)
  with _v1.variable_scope(scope, default_name, [inputs], reuse=reuse) as sc:
    _common.check_data_format(data_format, formats, layer)
    inputs = tf.convert_to_tensor(inputs)
    rank = spatial + 2
    if inputs.shape.rank != rank:
      raise ValueError(f'{layer} ({sc.name}): expected inputs of rank {rank}, got shape '
                       f'{inputs.shape}.')
    first = _common.channels_first(data_format)
    in_channels = utils.channel_dimension(inputs.shape, data_format, min_rank=rank)
    kernel = utils.n_positive_integers(spatial, kernel_size)
    strides = utils.n_positive_integers(spatial, stride)
    padding = _common.padding_arg(padding, layer)
    # The kernel of a transposed convolution is [*kernel, out, in] (Keras' layout too).
    weights = _common.model_weight(
        'weights', shape=list(kernel) + [num_outputs, in_channels],
        dtype=inputs.dtype.base_dtype, initializer=weights_initializer,
        regularizer=weights_regularizer, variables_collections=variables_collections,
        trainable=trainable)
    dynamic = tf.shape(inputs)
    axes = list(range(2, rank)) if first else list(range(1, rank - 1))
    static = inputs.shape.as_list()
    out_static = [static[0]] + [None] * (rank - 1)
    out_dynamic = [dynamic[0]] + [None] * (rank - 1)
    channel_axis = 1 if first else rank - 1
    out_static[channel_axis] = out_dynamic[channel_axis] = num_outputs
    for axis, k, s in zip(axes, kernel, strides):
      out_dynamic[axis] = _deconv_length(dynamic[axis], k, s, padding)
      if static[axis] is not None:
        out_static[axis] = _deconv_length(static[axis], k, s, padding)
    full_strides = [1] * rank
    for axis, s in zip(axes, strides):
      full_strides[axis] = s
    outputs = tf.nn.conv_transpose(inputs, weights, tf.stack(out_dynamic), full_strides,
                                   padding=padding, data_format=data_format)
    outputs.set_shape(out_static)
    if _common.use_bias(normalizer_fn, biases_initializer):
      outputs = _biases(outputs, num_outputs, data_format=data_format,
                        biases_initializer=biases_initializer,
                        biases_regularizer=biases_regularizer,
                        variables_collections=variables_collections, trainable=trainable)
    return _common.finish(outputs, normalizer_fn=normalizer_fn,
                          normalizer_params=normalizer_params, activation_fn=activation_fn,
                          outputs_collections=outputs_collections, alias=sc.name)


@add_arg_scope
def convolution2d_transpose(inputs, num_outputs, kernel_size, stride=1, padding='SAME',
                            data_format=_common.NHWC, activation_fn=tf.nn.relu,
                            normalizer_fn=None, normalizer_params=None,
                            weights_initializer=initializers.xavier_initializer(),
                            weights_regularizer=None, biases_initializer=tf.zeros_initializer(),
                            biases_regularizer=None, reuse=None, variables_collections=None,
                            outputs_collections=None, trainable=True, scope=None):
  """A 2-D transposed convolution ("deconvolution"); scope 'Conv2d_transpose'.

  The output is `stride` times larger (plus `max(kernel - stride, 0)` with 'VALID').
  `weights` has shape `[kh, kw, num_outputs, in_channels]`. Other arguments as
  `convolution`.
  """
  return _convolution_transpose(
      inputs, num_outputs, kernel_size, spatial=2, stride=stride, padding=padding,
      data_format=data_format, activation_fn=activation_fn, normalizer_fn=normalizer_fn,
      normalizer_params=normalizer_params, weights_initializer=weights_initializer,
      weights_regularizer=weights_regularizer, biases_initializer=biases_initializer,
      biases_regularizer=biases_regularizer, reuse=reuse,
      variables_collections=variables_collections, outputs_collections=outputs_collections,
      trainable=trainable, scope=scope, default_name='Conv2d_transpose',
      layer='convolution2d_transpose')


@add_arg_scope
def convolution3d_transpose(inputs, num_outputs, kernel_size, stride=1, padding='SAME',
                            data_format=_common.NDHWC, activation_fn=tf.nn.relu,
                            normalizer_fn=None, normalizer_params=None,
                            weights_initializer=initializers.xavier_initializer(),
                            weights_regularizer=None, biases_initializer=tf.zeros_initializer(),
                            biases_regularizer=None, reuse=None, variables_collections=None,
                            outputs_collections=None, trainable=True, scope=None):
  """A 3-D transposed convolution; scope 'Conv3d_transpose'. As `convolution2d_transpose`."""
  return _convolution_transpose(
      inputs, num_outputs, kernel_size, spatial=3, stride=stride, padding=padding,
      data_format=data_format, activation_fn=activation_fn, normalizer_fn=normalizer_fn,
      normalizer_params=normalizer_params, weights_initializer=weights_initializer,
      weights_regularizer=weights_regularizer, biases_initializer=biases_initializer,
      biases_regularizer=biases_regularizer, reuse=reuse,
      variables_collections=variables_collections, outputs_collections=outputs_collections,
      trainable=trainable, scope=scope, default_name='Conv3d_transpose',
      layer='convolution3d_transpose')


@add_arg_scope
def separable_convolution2d(inputs, num_outputs, kernel_size, depth_multiplier=1, stride=1,
                            padding='SAME', data_format=_common.NHWC, rate=1,
                            activation_fn=tf.nn.relu, normalizer_fn=None, normalizer_params=None,
                            weights_initializer=initializers.xavier_initializer(),
                            pointwise_initializer=None, weights_regularizer=None,
                            biases_initializer=tf.zeros_initializer(), biases_regularizer=None,
                            reuse=None, variables_collections=None, outputs_collections=None,
                            trainable=True, scope=None):
  """A depthwise convolution, then (unless `num_outputs` is None) a 1x1 pointwise one.

  Variables: `depthwise_weights` `[kh, kw, in, depth_multiplier]`, `pointwise_weights`
  `[1, 1, in * depth_multiplier, num_outputs]` and `biases`; scope 'SeparableConv2d'.
  With `num_outputs=None` the layer is depthwise only and has `in * depth_multiplier`
  outputs. `pointwise_initializer` defaults to `weights_initializer`; the weights
  regularizer applies to both kernels. Other arguments as `convolution`.
  """
  _common.check_data_format(data_format, (_common.NHWC, _common.NCHW), 'separable_convolution2d')
  with _v1.variable_scope(scope, 'SeparableConv2d', [inputs], reuse=reuse) as sc:
    inputs = tf.convert_to_tensor(inputs)
    dtype = inputs.dtype.base_dtype
    if pointwise_initializer is None:
      pointwise_initializer = weights_initializer
    kernel_h, kernel_w = utils.two_element_tuple(kernel_size)
    stride_h, stride_w = utils.two_element_tuple(stride)
    rates = utils.two_element_tuple(rate)
    padding = _common.padding_arg(padding, 'separable_convolution2d')
    first = _common.channels_first(data_format)
    num_filters_in = utils.channel_dimension(inputs.shape, data_format, min_rank=4)
    strides = [1, 1, stride_h, stride_w] if first else [1, stride_h, stride_w, 1]
    depthwise_weights = _common.model_weight(
        'depthwise_weights', shape=[kernel_h, kernel_w, num_filters_in, depth_multiplier],
        dtype=dtype, initializer=weights_initializer, regularizer=weights_regularizer,
        variables_collections=variables_collections, trainable=trainable,
        collection_key='weights')
    if num_outputs is not None:
      pointwise_weights = _common.model_weight(
          'pointwise_weights', shape=[1, 1, num_filters_in * depth_multiplier, num_outputs],
          dtype=dtype, initializer=pointwise_initializer, regularizer=weights_regularizer,
          variables_collections=variables_collections, trainable=trainable,
          collection_key='weights')
      outputs = tf.nn.separable_conv2d(inputs, depthwise_weights, pointwise_weights, strides,
                                       padding, data_format=data_format, dilations=rates)
    else:
      num_outputs = num_filters_in * depth_multiplier
      outputs = tf.nn.depthwise_conv2d(inputs, depthwise_weights, strides, padding,
                                       data_format=data_format, dilations=rates)
    if _common.use_bias(normalizer_fn, biases_initializer):
      outputs = _biases(outputs, num_outputs, data_format=data_format,
                        biases_initializer=biases_initializer,
                        biases_regularizer=biases_regularizer,
                        variables_collections=variables_collections, trainable=trainable)
    return _common.finish(outputs, normalizer_fn=normalizer_fn,
                          normalizer_params=normalizer_params, activation_fn=activation_fn,
                          outputs_collections=outputs_collections, alias=sc.name)


conv1d = convolution1d
conv2d = convolution2d
conv3d = convolution3d
conv2d_in_plane = convolution2d_in_plane
conv2d_transpose = convolution2d_transpose
conv3d_transpose = convolution3d_transpose
separable_conv2d = separable_convolution2d

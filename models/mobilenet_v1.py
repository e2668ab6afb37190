"""MobileNet v1 (arXiv:1704.04861) as research/slim built it (scope `MobilenetV1`).

    with slim.arg_scope(mobilenet_v1_arg_scope(is_training=True)):
      logits, end_points = mobilenet_v1(images, num_classes=1001, is_training=True)
    end_points['Conv2d_13_pointwise']

The body is `CONV_DEFS`, a table of layers: one full 3x3 convolution, then thirteen depthwise
separable ones (`Conv2d_<i>_depthwise` 3x3 per channel + `Conv2d_<i>_pointwise` 1x1).
`mobilenet_v1_075/050/025` scale every depth.
"""
import collections
import functools

import tensorflow as tf

import slimdata as slim

Conv = collections.namedtuple('Conv', ['kernel', 'stride', 'depth'])
DepthSepConv = collections.namedtuple('DepthSepConv', ['kernel', 'stride', 'depth'])

CONV_DEFS = [
    Conv(kernel=[3, 3], stride=2, depth=32),
    DepthSepConv(kernel=[3, 3], stride=1, depth=64),
    DepthSepConv(kernel=[3, 3], stride=2, depth=128),
    DepthSepConv(kernel=[3, 3], stride=1, depth=128),
    DepthSepConv(kernel=[3, 3], stride=2, depth=256),
    DepthSepConv(kernel=[3, 3], stride=1, depth=256),
    DepthSepConv(kernel=[3, 3], stride=2, depth=512),
    DepthSepConv(kernel=[3, 3], stride=1, depth=512),
    DepthSepConv(kernel=[3, 3], stride=1, depth=512),
    DepthSepConv(kernel=[3, 3], stride=1, depth=512),
    DepthSepConv(kernel=[3, 3], stride=1, depth=512),
    DepthSepConv(kernel=[3, 3], stride=1, depth=512),
    DepthSepConv(kernel=[3, 3], stride=2, depth=1024),
    DepthSepConv(kernel=[3, 3], stride=1, depth=1024),
]


def _end_point_names(conv_defs):
  names = []
  for i, conv_def in enumerate(conv_defs):
    if isinstance(conv_def, Conv):
      names.append(f'Conv2d_{i}')
    else:
      names += [f'Conv2d_{i}_depthwise', f'Conv2d_{i}_pointwise']
  return names


def _fixed_padding(inputs, kernel_size, rate=1):
  """Pads so a VALID convolution gives what SAME would, independent of the input size."""
  effective = [k + (k - 1) * (rate - 1) for k in kernel_size]
  pad_beg = [(k - 1) // 2 for k in effective]
  pad_end = [k - 1 - b for k, b in zip(effective, pad_beg)]
  return tf.pad(inputs, [[0, 0], [pad_beg[0], pad_end[0]], [pad_beg[1], pad_end[1]], [0, 0]])


def mobilenet_v1_base(inputs, final_endpoint='Conv2d_13_pointwise', min_depth=8,
                      depth_multiplier=1.0, conv_defs=None, output_stride=None,
                      use_explicit_padding=False, scope=None):
  """MobileNet v1 from `inputs` up to `final_endpoint`.

  Args:
    inputs: `[batch, height, width, channels]`.
    final_endpoint: the last layer to build (`Conv2d_0`, `Conv2d_1_depthwise`, ...).
    min_depth: smallest depth a layer gets under `depth_multiplier`.
    depth_multiplier: scales every layer's depth (must be > 0).
    conv_defs: the layer table; `CONV_DEFS` by default.
    output_stride: 8, 16 or 32: the wanted ratio of input to output size; later strides
      become atrous rates.
    use_explicit_padding: pad explicitly and convolve VALID (for size-independent alignment).
    scope: variable scope.

  Returns:
    `(net, end_points)`.

  Raises:
    ValueError: bad `final_endpoint`, `depth_multiplier` or `output_stride` (before building).
  """
  conv_defs = conv_defs or CONV_DEFS
  if depth_multiplier <= 0:
    raise ValueError(f'depth_multiplier must be greater than zero, got {depth_multiplier}')
  if output_stride is not None and output_stride not in (8, 16, 32):
    raise ValueError(f'output_stride must be 8, 16 or 32, got {output_stride}')
  names = _end_point_names(conv_defs)
  if final_endpoint not in names:
    raise ValueError(f'unknown final_endpoint {final_endpoint!r}; known: {", ".join(names)}')
  depth = lambda d: max(int(d * depth_multiplier), min_depth)
  padding = 'VALID' if use_explicit_padding else 'SAME'
  end_points = {}
  with tf.compat.v1.variable_scope(scope, 'MobilenetV1', [inputs]):
    with slim.arg_scope([slim.conv2d, slim.separable_conv2d], padding=padding):
      # current_stride: the net's stride so far; rate: the atrous rate once it reaches
      # output_stride.
      current_stride, rate = 1, 1
      net = inputs
      for i, conv_def in enumerate(conv_defs):
        if output_stride is not None and current_stride == output_stride:
          layer_stride, layer_rate = 1, rate
          rate *= conv_def.stride
        else:
          layer_stride, layer_rate = conv_def.stride, 1
          current_stride *= conv_def.stride
        if isinstance(conv_def, Conv):
          end_point = f'Conv2d_{i}'
          if use_explicit_padding:
            net = _fixed_padding(net, conv_def.kernel)
          net = end_points[end_point] = slim.conv2d(
              net, depth(conv_def.depth), conv_def.kernel, stride=conv_def.stride,
              scope=end_point)
          if end_point == final_endpoint:
            return net, end_points
        else:
          end_point = f'Conv2d_{i}_depthwise'
          if use_explicit_padding:
            net = _fixed_padding(net, conv_def.kernel, layer_rate)
          net = end_points[end_point] = slim.separable_conv2d(
              net, None, conv_def.kernel, depth_multiplier=1, stride=layer_stride,
              rate=layer_rate, scope=end_point)
          if end_point == final_endpoint:
            return net, end_points
          end_point = f'Conv2d_{i}_pointwise'
          net = end_points[end_point] = slim.conv2d(
              net, depth(conv_def.depth), [1, 1], stride=1, scope=end_point)
          if end_point == final_endpoint:
            return net, end_points
  return net, end_points


def _reduced_kernel_size_for_small_input(input_tensor, kernel_size):
  shape = input_tensor.shape.as_list()
  if shape[1] is None or shape[2] is None:
    return kernel_size
  return [min(shape[1], kernel_size[0]), min(shape[2], kernel_size[1])]


def mobilenet_v1(inputs, num_classes=1000, dropout_keep_prob=0.999, is_training=True,
                 min_depth=8, depth_multiplier=1.0, conv_defs=None, prediction_fn=slim.softmax,
                 spatial_squeeze=True, reuse=None, scope='MobilenetV1', global_pool=False):
  """MobileNet v1 classifier.

  Args:
    inputs: float `[batch, 224, 224, 3]`.
    num_classes: logits per image; 0 or None returns the pooled features.
    dropout_keep_prob: fraction of pooled features kept while training.
    is_training: whether batch norm and dropout are in training mode.
    min_depth, depth_multiplier, conv_defs: as `mobilenet_v1_base`.
    prediction_fn: maps logits to `end_points['Predictions']`.
    spatial_squeeze: squeeze the 1x1 spatial dimensions of the logits.
    reuse: reuse the variables of an earlier call (needs `scope`).
    scope: variable scope.
    global_pool: average over all of space instead of a 7x7 window.

  Returns:
    `(logits, end_points)`.

  Raises:
    ValueError: `inputs` is not of rank 4.
  """
  if inputs.shape.rank != 4:
    raise ValueError(f'mobilenet_v1 needs [batch, height, width, channels] inputs, got shape '
                     f'{inputs.shape}')
  with tf.compat.v1.variable_scope(scope, 'MobilenetV1', [inputs], reuse=reuse) as sc:
    with slim.arg_scope([slim.batch_norm, slim.dropout], is_training=is_training):
      net, end_points = mobilenet_v1_base(inputs, scope=sc, min_depth=min_depth,
                                          depth_multiplier=depth_multiplier,
                                          conv_defs=conv_defs)
      with tf.compat.v1.variable_scope('Logits'):
        if global_pool:
          net = end_points['global_pool'] = tf.reduce_mean(
              net, [1, 2], keepdims=True, name='global_pool')
        else:
          kernel = _reduced_kernel_size_for_small_input(net, [7, 7])
          net = end_points['AvgPool_1a'] = slim.avg_pool2d(net, kernel, padding='VALID',
                                                           scope='AvgPool_1a')
        if not num_classes:
          return net, end_points
        net = slim.dropout(net, keep_prob=dropout_keep_prob, scope='Dropout_1b')
        logits = slim.conv2d(net, num_classes, [1, 1], activation_fn=None, normalizer_fn=None,
                             scope='Conv2d_1c_1x1')
        if spatial_squeeze:
          logits = tf.squeeze(logits, [1, 2], name='SpatialSqueeze')
      end_points['Logits'] = logits
      if prediction_fn:
        end_points['Predictions'] = prediction_fn(logits, scope='Predictions')
  return logits, end_points


mobilenet_v1.default_image_size = 224


def _scaled(depth_multiplier):
  network = functools.partial(mobilenet_v1, depth_multiplier=depth_multiplier)
  functools.update_wrapper(network, mobilenet_v1)
  return network


mobilenet_v1_075 = _scaled(0.75)
mobilenet_v1_050 = _scaled(0.50)
mobilenet_v1_025 = _scaled(0.25)


def mobilenet_v1_arg_scope(is_training=True, weight_decay=0.00004, stddev=0.09,
                           regularize_depthwise=False, batch_norm_decay=0.9997,
                           batch_norm_epsilon=0.001,
                           batch_norm_updates_collections=tf.compat.v1.GraphKeys.UPDATE_OPS,
                           normalizer_fn=slim.batch_norm):
  """MobileNet v1's defaults: ReLU6, batch norm, truncated-normal weights, L2 decay.

  Depthwise weights are not decayed unless `regularize_depthwise` (they are few, and decay
  hurts them). `is_training=None` leaves batch norm's mode to the net.
  """
  batch_norm_params = {
      'center': True,
      'scale': True,
      'decay': batch_norm_decay,
      'epsilon': batch_norm_epsilon,
      'updates_collections': batch_norm_updates_collections,
  }
  if is_training is not None:
    batch_norm_params['is_training'] = is_training
  regularizer = slim.l2_regularizer(weight_decay)
  depthwise_regularizer = regularizer if regularize_depthwise else None
  with slim.arg_scope([slim.conv2d, slim.separable_conv2d],
                      weights_initializer=tf.compat.v1.truncated_normal_initializer(stddev=stddev),
                      activation_fn=tf.nn.relu6, normalizer_fn=normalizer_fn):
    with slim.arg_scope([slim.batch_norm], **batch_norm_params):
      with slim.arg_scope([slim.conv2d], weights_regularizer=regularizer):
        with slim.arg_scope([slim.separable_conv2d],
                            weights_regularizer=depthwise_regularizer) as sc:
          return sc

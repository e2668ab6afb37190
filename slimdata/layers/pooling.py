"""Pooling layers: max and average, 2-D and 3-D, and the generic N-D `pool`.

    net = slim.max_pool2d(net, [2, 2], scope='pool1')          # stride 2, 'VALID'
    net = slim.avg_pool2d(net, [7, 7], stride=1, padding='SAME')

They have no variables; `scope` names the name scope (default 'MaxPool2D', ...),
which is also the end-point alias.
"""
import tensorflow as tf

import slimdata.utils as utils
from slimdata.layers import _common
from slimdata.scopes import add_arg_scope

__all__ = ['avg_pool2d', 'avg_pool3d', 'max_pool2d', 'max_pool3d', 'pool']

_v1 = tf.compat.v1


def _pool(pool_fn, inputs, kernel_size, stride, padding, data_format, outputs_collections,
          scope, *, spatial, default_name, layer):
  formats = (_common.NHWC, _common.NCHW) if spatial == 2 else (_common.NDHWC, _common.NCDHW)
  _common.check_data_format(data_format, formats, layer)
  with _v1.name_scope(scope, default_name, [inputs]) as sc:
    inputs = tf.convert_to_tensor(inputs)
    if inputs.shape.rank is not None and inputs.shape.rank != spatial + 2:
      raise ValueError(f'{layer} ({sc}): expected inputs of rank {spatial + 2}, got shape '
                       f'{inputs.shape}.')
    first = _common.channels_first(data_format)
    window = utils.n_positive_integers(spatial, kernel_size)
    strides = utils.n_positive_integers(spatial, stride)
    if first:
      ksize, full_strides = [1, 1, *window], [1, 1, *strides]
    else:
      ksize, full_strides = [1, *window, 1], [1, *strides, 1]
    outputs = pool_fn(inputs, ksize, full_strides, _common.padding_arg(padding, layer),
                      data_format=data_format)
    return utils.collect_named_outputs(outputs_collections, sc, outputs)


@add_arg_scope
def avg_pool2d(inputs, kernel_size, stride=2, padding='VALID', data_format=_common.NHWC,
               outputs_collections=None, scope=None):
  """2-D average pooling over `kernel_size` windows (an int or [kh, kw])."""
  return _pool(tf.nn.avg_pool2d, inputs, kernel_size, stride, padding, data_format,
               outputs_collections, scope, spatial=2, default_name='AvgPool2D',
               layer='avg_pool2d')


@add_arg_scope
def max_pool2d(inputs, kernel_size, stride=2, padding='VALID', data_format=_common.NHWC,
               outputs_collections=None, scope=None):
  """2-D max pooling over `kernel_size` windows (an int or [kh, kw])."""
  return _pool(tf.nn.max_pool2d, inputs, kernel_size, stride, padding, data_format,
               outputs_collections, scope, spatial=2, default_name='MaxPool2D',
               layer='max_pool2d')


@add_arg_scope
def avg_pool3d(inputs, kernel_size, stride=2, padding='VALID', data_format=_common.NDHWC,
               outputs_collections=None, scope=None):
  """3-D average pooling over `kernel_size` windows (an int or [kd, kh, kw])."""
  return _pool(tf.nn.avg_pool3d, inputs, kernel_size, stride, padding, data_format,
               outputs_collections, scope, spatial=3, default_name='AvgPool3D',
               layer='avg_pool3d')


@add_arg_scope
def max_pool3d(inputs, kernel_size, stride=2, padding='VALID', data_format=_common.NDHWC,
               outputs_collections=None, scope=None):
  """3-D max pooling over `kernel_size` windows (an int or [kd, kh, kw])."""
  return _pool(tf.nn.max_pool3d, inputs, kernel_size, stride, padding, data_format,
               outputs_collections, scope, spatial=3, default_name='MaxPool3D',
               layer='max_pool3d')


@add_arg_scope
def pool(inputs, kernel_size, pooling_type, padding='VALID', data_format=None, dilation_rate=1,
         stride=1, outputs_collections=None, scope=None):
  """N-D pooling ('MAX' or 'AVG') with dilation, over inputs of rank N + 2 (`tf.nn.pool`)."""
  with _v1.name_scope(scope, f'{pooling_type.lower()}_pool', [inputs]) as sc:
    inputs = tf.convert_to_tensor(inputs)
    rank = inputs.shape.rank
    if rank is None or rank < 3:
      raise ValueError(f'pool ({sc}): inputs must have a known rank >= 3, got shape '
                       f'{inputs.shape}.')
    spatial = rank - 2
    outputs = tf.nn.pool(inputs, window_shape=utils.n_positive_integers(spatial, kernel_size),
                         pooling_type=pooling_type, padding=_common.padding_arg(padding, 'pool'),
                         data_format=data_format,
                         dilations=utils.n_positive_integers(spatial, dilation_rate),
                         strides=utils.n_positive_integers(spatial, stride), name=sc)
    return utils.collect_named_outputs(outputs_collections, sc, outputs)

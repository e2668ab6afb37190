"""Layers built from other layers: the same layer repeated, or stacked with new arguments.

    net = slim.repeat(net, 3, slim.conv2d, 256, [3, 3], scope='conv3')  # conv3/conv3_1 .. conv3_3
    net = slim.stack(net, slim.fully_connected, [32, 64, 128], scope='fc')  # fc/fc_1 .. fc_3
"""
import tensorflow as tf

__all__ = ['repeat', 'stack']

_v1 = tf.compat.v1


def _layer_name(layer, fallback):
  if hasattr(layer, '__name__'):
    return layer.__name__
  if hasattr(layer, 'func') and hasattr(layer.func, '__name__'):  # functools.partial
    return layer.func.__name__
  return fallback


def repeat(inputs, repetitions, layer, *args, **kwargs):
  """Applies `layer(outputs, *args, **kwargs)` `repetitions` times.

  Each call gets the scope `<scope>_<i>` (i from 1) inside the variable scope
  `scope` (default 'Repeat'); without `scope` the layer's name is the prefix.
  """
  scope = kwargs.pop('scope', None)
  with _v1.variable_scope(scope, 'Repeat', [inputs]):
    inputs = tf.convert_to_tensor(inputs)
    prefix = scope if scope is not None else _layer_name(layer, 'repeat')
    outputs = inputs
    for i in range(repetitions):
      kwargs['scope'] = f'{prefix}_{i + 1}'
      outputs = layer(outputs, *args, **kwargs)
    return outputs


def stack(inputs, layer, stack_args, **kwargs):
  """Applies `layer` once per element of `stack_args`, feeding each output to the next.

  Each element is the positional arguments of one call (a tuple/list, or a single
  value). Scopes as `repeat` (default 'Stack').

  Raises:
    ValueError: `stack_args` is not a list or tuple.
  """
  scope = kwargs.pop('scope', None)
  if not isinstance(stack_args, (list, tuple)):
    raise ValueError('stack: stack_args must be a list or tuple (one entry per layer), got '
                     f'{type(stack_args).__name__}.')
  with _v1.variable_scope(scope, 'Stack', [inputs]):
    inputs = tf.convert_to_tensor(inputs)
    prefix = scope if scope is not None else _layer_name(layer, 'stack')
    outputs = inputs
    for i, layer_args in enumerate(stack_args):
      kwargs['scope'] = f'{prefix}_{i + 1}'
      if not isinstance(layer_args, (list, tuple)):
        layer_args = [layer_args]
      outputs = layer(outputs, *layer_args, **kwargs)
    return outputs

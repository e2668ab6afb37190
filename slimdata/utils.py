"""Helpers shared by the layers: end-point collection and argument normalisation.

    net = slim.conv2d(images, 64, [3, 3], scope='conv1', outputs_collections='end_points')
    end_points = slim.utils.convert_collection_to_dict('end_points')
    end_points['conv1']  # the layer's output tensor

TF-Slim's `slim.utils` names, as research/slim's nets use them.
"""
import collections
import numbers

import tensorflow as tf

__all__ = [
    'collect_named_outputs', 'append_tensor_alias', 'gather_tensors_aliases', 'get_tensor_aliases',
    'convert_collection_to_dict', 'constant_value', 'smart_cond', 'static_cond',
    'get_variable_collections', 'two_element_tuple', 'n_positive_integers', 'channel_dimension',
    'last_dimension', 'NamedOutputs'
]

_v1 = tf.compat.v1

NamedOutputs = collections.namedtuple('NamedOutputs', ['name', 'outputs'])


def collect_named_outputs(collections_, alias, outputs):
  """Adds `outputs` to `collections_` (a name or a list) under `alias`; returns `outputs`."""
  if collections_:
    append_tensor_alias(outputs, alias)
    if isinstance(collections_, str):
      collections_ = [collections_]
    _v1.add_to_collections(collections_, outputs)
  return outputs


def append_tensor_alias(tensor, alias):
  """Records `alias` (without a trailing '/') on `tensor`, for `convert_collection_to_dict`."""
  if alias.endswith('/'):
    alias = alias[:-1]
  if hasattr(tensor, 'aliases'):
    tensor.aliases.append(alias)
  else:
    tensor.aliases = [alias]
  return tensor


def get_tensor_aliases(tensor):
  """The aliases recorded on `tensor`, else its op name (or its name for outputs past the first)."""
  if hasattr(tensor, 'aliases'):
    return tensor.aliases
  if tensor.name.endswith(':0'):
    return [tensor.op.name]
  return [tensor.name]


def gather_tensors_aliases(tensors):
  """The aliases of every tensor in `tensors`, in order."""
  aliases = []
  for tensor in tensors:
    aliases += get_tensor_aliases(tensor)
  return aliases


def convert_collection_to_dict(collection, clear_collection=False):
  """An ordered dict `{alias: tensor}` of the tensors in `collection`."""
  output = collections.OrderedDict(
      (alias, tensor) for tensor in _v1.get_collection(collection)
      for alias in get_tensor_aliases(tensor))
  if clear_collection:
    _v1.get_default_graph().clear_collection(collection)
  return output


def constant_value(value_or_tensor_or_var, dtype=None):
  """The Python/NumPy value of a constant, a bool or a constant tensor; None if not static."""
  if value_or_tensor_or_var is None:
    raise ValueError('constant_value: got None; pass a value, a tensor or a variable.')
  if isinstance(value_or_tensor_or_var, (tf.Tensor, tf.Variable)):
    if dtype is not None and value_or_tensor_or_var.dtype != dtype:
      raise ValueError(f'constant_value: expected a {dtype} tensor, got '
                       f'{value_or_tensor_or_var.dtype}.')
    if isinstance(value_or_tensor_or_var, tf.Variable):
      return None
    return tf.get_static_value(value_or_tensor_or_var)
  return value_or_tensor_or_var


def static_cond(pred, fn1, fn2):
  """`fn1()` if the Python value `pred` is true, else `fn2()`."""
  if not callable(fn1) or not callable(fn2):
    raise TypeError('static_cond: fn1 and fn2 must be callables.')
  return fn1() if pred else fn2()


def smart_cond(pred, fn1, fn2, name=None):
  """A Python branch when `pred` is known when the graph is built, else `tf.cond`."""
  pred_value = constant_value(pred)
  if pred_value is not None:
    return static_cond(pred_value, fn1, fn2)
  return tf.cond(pred, fn1, fn2, name=name)


def get_variable_collections(variables_collections, name):
  """The collections for the variable `name` from a list or a `{name: list}` dict."""
  if isinstance(variables_collections, dict):
    return variables_collections.get(name)
  return variables_collections


def n_positive_integers(n, value):
  """`value` as a tuple of `n` positive ints (an int is repeated n times).

  Raises:
    ValueError: not an int or a sequence of n positive ints.
  """
  if _is_int(value):
    if value > 0:
      return (int(value),) * n
  elif isinstance(value, (list, tuple, tf.TensorShape)) and len(value) == n:
    if all(_is_int(v) and v > 0 for v in value):
      return tuple(int(v) for v in value)
  raise ValueError(f'expected a positive integer or a sequence of {n} positive integers, got '
                   f'{value!r}.')


def _is_int(value):
  return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def two_element_tuple(int_or_tuple):
  """`(h, w)` from an int, a pair of ints, or a 2-element TensorShape.

  Raises:
    ValueError: anything else.
  """
  if _is_int(int_or_tuple):
    return int(int_or_tuple), int(int_or_tuple)
  if (isinstance(int_or_tuple, (list, tuple, tf.TensorShape)) and len(int_or_tuple) == 2 and
      all(_is_int(v) for v in int_or_tuple)):
    return int(int_or_tuple[0]), int(int_or_tuple[1])
  raise ValueError(f'expected an int or a pair of ints, got {int_or_tuple!r}.')


def channel_dimension(shape, data_format, min_rank=1):
  """The (static) channels dimension of `shape` for 'channels_first'/'NC..' or last.

  Raises:
    ValueError: the rank is unknown or below `min_rank`, or the dimension unknown.
  """
  shape = tf.TensorShape(shape)
  if shape.rank is None:
    raise ValueError('the rank of the inputs must be known.')
  if shape.rank < min_rank:
    raise ValueError(f'the rank of the inputs must be at least {min_rank}, got {shape.rank}.')
  first = data_format in ('channels_first',) or str(data_format).startswith('NC')
  value = shape[1] if first else shape[-1]
  if value is None:
    raise ValueError(f'the channels dimension of the inputs must be known, got {shape}.')
  return int(value)


def last_dimension(shape, min_rank=1):
  """The (static) last dimension of `shape`.

  Raises:
    ValueError: the rank is unknown or below `min_rank`, or the dimension unknown.
  """
  return channel_dimension(shape, 'channels_last', min_rank=min_rank)

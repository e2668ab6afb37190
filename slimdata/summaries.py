"""Summaries of tensors for TensorBoard, named and prefixed TF-Slim's way.

    slim.summaries.add_scalar_summary(total_loss, 'Total_Loss', prefix='losses')
    slim.summaries.add_histogram_summaries(slim.get_model_variables())
    slim.summaries.add_zero_fraction_summaries(end_points.values())  # dead-ReLU watch

Graph-mode `tf.compat.v1.summary` ops, added to the SUMMARIES collection (which
`slim.learning.train` merges). A summary's name defaults to its tensor's op name.
"""
import functools
import re

import tensorflow as tf

__all__ = [
    'add_histogram_summary', 'add_image_summary', 'add_scalar_summary',
    'add_zero_fraction_summary', 'add_histogram_summaries', 'add_image_summaries',
    'add_scalar_summaries', 'add_zero_fraction_summaries', 'summarize_activation',
    'summarize_activations', 'summarize_biases', 'summarize_collection', 'summarize_tensor',
    'summarize_tensors', 'summarize_variables', 'summarize_weights'
]

_v1 = tf.compat.v1


def _summary_name(tensor, name=None, prefix=None, postfix=None):
  name = name or tensor.op.name
  if prefix:
    name = prefix + '/' + name
  if postfix:
    name = name + '/' + postfix
  return name


def _printing(summary_fn, tensor, summary_name, print_summary):
  """Builds the summary; with `print_summary`, one that also logs the value when run."""
  if not print_summary:
    return summary_fn(name=summary_name, tensor=tensor)
  # Keep the non-printing op out of SUMMARIES; the printing one goes in instead.
  op = summary_fn(name=summary_name, tensor=tensor, collections=[])
  op = _v1.Print(op, [tensor], summary_name)
  _v1.add_to_collection(_v1.GraphKeys.SUMMARIES, op)
  return op


def add_histogram_summary(tensor, name=None, prefix=None):
  """A histogram of `tensor`'s values."""
  return _v1.summary.histogram(_summary_name(tensor, name, prefix), tensor)


def add_image_summary(tensor, name=None, prefix=None, print_summary=False):
  """An image summary of a `[batch, height, width, 1|3|4]` tensor."""
  return _printing(_v1.summary.image, tensor, _summary_name(tensor, name, prefix),
                   print_summary)


def add_scalar_summary(tensor, name=None, prefix=None, print_summary=False):
  """A scalar summary; `print_summary` also logs the value each time it is computed."""
  return _printing(_v1.summary.scalar, tensor, _summary_name(tensor, name, prefix),
                   print_summary)


def add_zero_fraction_summary(tensor, name=None, prefix=None, print_summary=False):
  """The fraction of zeros in `tensor`, named `<name>/Fraction_of_Zero_Values`."""
  summary_name = _summary_name(tensor, name, prefix, 'Fraction_of_Zero_Values')
  return add_scalar_summary(tf.math.zero_fraction(tensor), summary_name,
                            print_summary=print_summary)


def add_histogram_summaries(tensors, prefix=None):
  """`add_histogram_summary` for each tensor; returns the ops."""
  return [add_histogram_summary(t, prefix=prefix) for t in tensors]


def add_image_summaries(tensors, prefix=None):
  """`add_image_summary` for each tensor; returns the ops."""
  return [add_image_summary(t, prefix=prefix) for t in tensors]


def add_scalar_summaries(tensors, prefix=None, print_summary=False):
  """`add_scalar_summary` for each tensor; returns the ops."""
  return [add_scalar_summary(t, prefix=prefix, print_summary=print_summary) for t in tensors]


def add_zero_fraction_summaries(tensors, prefix=None):
  """`add_zero_fraction_summary` for each tensor; returns the ops."""
  return [add_zero_fraction_summary(t, prefix=prefix) for t in tensors]


# tf.contrib.layers' summarize_* helpers, which tf.contrib.slim also exported.
def summarize_tensor(tensor, tag=None):
  """A scalar summary for a scalar, a histogram otherwise; None for string/bool tensors."""
  if tensor.dtype.is_compatible_with(tf.string) or tensor.dtype.base_dtype == tf.bool:
    return None
  tag = tag or f'{tensor.op.name}_summary'
  if tensor.shape.ndims == 0:
    return _v1.summary.scalar(tag, tensor)
  return _v1.summary.histogram(tag, tensor)


def summarize_activation(op):
  """A histogram of an activation, plus the fraction of zeros (and sixes for ReLU6)."""
  if op.op.type in ('Relu', 'Softplus', 'Relu6'):
    pre = op.op.inputs[0]
    _v1.summary.scalar(f'{op.op.name}/zeros',
                       tf.reduce_mean(tf.cast(tf.less(pre, tf.cast(0.0, pre.dtype)), tf.float32)))
  if op.op.type == 'Relu6':
    pre = op.op.inputs[0]
    _v1.summary.scalar(f'{op.op.name}/sixes', tf.reduce_mean(
        tf.cast(tf.greater(pre, tf.cast(6.0, pre.dtype)), tf.float32)))
  return _v1.summary.histogram(f'{op.op.name}/activation', op)


def summarize_tensors(tensors, summarizer=summarize_tensor):
  """`summarizer` applied to each tensor."""
  return [summarizer(tensor) for tensor in tensors]


def summarize_collection(collection, name_filter=None, summarizer=summarize_tensor):
  """Summarizes the tensors of `collection` whose op name matches `name_filter`."""
  tensors = [t for t in _v1.get_collection(collection)
             if name_filter is None or re.match(name_filter, t.op.name)]
  return summarize_tensors(tensors, summarizer)


summarize_variables = functools.partial(summarize_collection, _v1.GraphKeys.GLOBAL_VARIABLES)
summarize_weights = functools.partial(summarize_collection, _v1.GraphKeys.WEIGHTS)
summarize_biases = functools.partial(summarize_collection, _v1.GraphKeys.BIASES)


def summarize_activations(name_filter=None, summarizer=summarize_activation):
  """Summarizes the ACTIVATIONS collection."""
  return summarize_collection(_v1.GraphKeys.ACTIVATIONS, name_filter, summarizer)

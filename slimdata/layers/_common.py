"""What every layer does around its own op: data formats, variables, the finishing steps.

    weights = _common.model_weight('weights', shape=[3, 3, 8, 16], dtype=inputs.dtype, ...)
    return _common.finish(outputs, normalizer_fn=..., activation_fn=..., alias=sc.name)
"""
import slimdata.utils as utils
from slimdata import variables

NHWC, NCHW, NDHWC, NCDHW = 'NHWC', 'NCHW', 'NDHWC', 'NCDHW'


def check_data_format(data_format, allowed, layer):
  """Raises ValueError (naming the layer and the allowed formats) if not allowed."""
  if data_format not in allowed:
    shown = ', '.join(repr(f) for f in allowed)
    raise ValueError(f'{layer}: data_format has to be one of {shown}; got {data_format!r}.')


def channels_first(data_format):
  return bool(data_format) and data_format.startswith('NC')


def tf_data_format(rank, first):
  """TensorFlow's data_format string for a tensor of `rank` (3, 4 or 5)."""
  return {3: ('NWC', 'NCW'), 4: ('NHWC', 'NCHW'), 5: ('NDHWC', 'NCDHW')}[rank][int(first)]


def padding_arg(padding, layer):
  """'SAME' or 'VALID' from either case (Keras-era code passed lowercase)."""
  upper = str(padding).upper()
  if upper not in ('SAME', 'VALID'):
    raise ValueError(f"{layer}: padding must be 'SAME' or 'VALID', got {padding!r}.")
  return upper


def model_weight(name, *, shape, dtype, initializer, regularizer, variables_collections,
                 trainable, collection_key=None):
  """A model variable in the collections given for `collection_key` (default: `name`)."""
  return variables.model_variable(
      name, shape=shape, dtype=dtype, initializer=initializer, regularizer=regularizer,
      collections=utils.get_variable_collections(variables_collections, collection_key or name),
      trainable=trainable)


def finish(outputs, *, normalizer_fn=None, normalizer_params=None, activation_fn=None,
           outputs_collections=None, alias):
  """Applies the normalizer then the activation, and collects the result under `alias`."""
  if normalizer_fn is not None:
    outputs = normalizer_fn(outputs, **(normalizer_params or {}))
  if activation_fn is not None:
    outputs = activation_fn(outputs)
  return utils.collect_named_outputs(outputs_collections, alias, outputs)


def use_bias(normalizer_fn, biases_initializer):
  """TF-Slim's rule: a layer has biases unless it is normalized or has no bias initializer."""
  return normalizer_fn is None and biases_initializer is not None

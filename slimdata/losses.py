"""TF-Slim's losses: each one is added to the LOSSES collection and summed by `get_total_loss`.

    slim.losses.softmax_cross_entropy(logits, onehot_labels)
    slim.losses.sum_of_squares(depth_predictions, depth_labels)
    total_loss = slim.losses.get_total_loss()   # plus regularization losses

Argument order and weighting follow `tf.contrib.slim.losses` (predictions or
logits first, then labels): a loss is the weighted sum of its elements divided
by the number of elements with a non-zero weight. `weights` may be a scalar, a
`[batch_size]` (or `[batch_size, 1]`) tensor, or a tensor shaped like the
per-element losses.
"""
import tensorflow as tf

_LOSSES = tf.compat.v1.GraphKeys.LOSSES

__all__ = [
    'absolute_difference', 'add_loss', 'compute_weighted_loss', 'cosine_distance', 'get_losses',
    'get_regularization_losses', 'get_total_loss', 'hinge_loss', 'log_loss',
    'mean_pairwise_squared_error', 'mean_squared_error', 'sigmoid_cross_entropy',
    'softmax_cross_entropy', 'sparse_softmax_cross_entropy', 'sum_of_squares',
]


def _require(value, name, function):
  if value is None:
    raise ValueError(f'{function}: `{name}` must not be None.')


def _check_shapes(predictions, labels, function, first='predictions'):
  if not predictions.shape.is_compatible_with(labels.shape):
    raise ValueError(f'{function}: `{first}` shape {predictions.shape} does not match '
                     f'`labels` shape {labels.shape}; pass tensors of the same shape.')


def _scale_losses(losses, weights):
  """Sums `losses` over the dimensions `weights` lacks, weights them and sums the rest."""
  start = max(0, weights.shape.ndims)
  axis = list(range(start, losses.shape.ndims))
  reduced = tf.reduce_sum(losses, axis=axis)
  return tf.reduce_sum(reduced * weights)


def _num_present(losses, weights, per_batch=False):
  """Counts the loss elements with a non-zero weight (per batch entry if `per_batch`)."""
  if losses.shape.ndims == 0:
    num_per_batch = tf.reshape(tf.cast(tf.not_equal(weights, 0), tf.float32), [-1])[:1]
  elif weights.shape.ndims == 0:
    batch_size = tf.shape(losses)[0]
    per_entry = tf.cast(tf.size(losses), tf.float32) / tf.cast(batch_size, tf.float32)
    per_entry = tf.where(tf.equal(weights, 0), 0.0, per_entry)
    num_per_batch = tf.ones([batch_size]) * per_entry
  else:
    axis = list(range(1, weights.shape.ndims))
    nonzero = tf.reduce_sum(tf.cast(tf.not_equal(weights, 0), tf.float32), axis=axis)
    broadcast_dims = tf.shape(losses)[weights.shape.ndims:]
    num_per_batch = nonzero * tf.cast(tf.reduce_prod(broadcast_dims), tf.float32)
  return num_per_batch if per_batch else tf.reduce_sum(num_per_batch)


def compute_weighted_loss(losses, weights=1.0, scope=None):
  """Weighted mean of `losses` over the elements with non-zero weight; adds it to LOSSES.

  Returns 0 when every weight is zero (TF-Slim's safe mean).
  """
  with tf.compat.v1.name_scope(scope, 'weighted_loss', [losses, weights]):
    losses = tf.convert_to_tensor(losses)
    input_dtype = losses.dtype
    losses = tf.cast(losses, tf.float32)
    weights = tf.cast(tf.convert_to_tensor(weights), tf.float32)
    if losses.shape.ndims is None:
      raise ValueError('compute_weighted_loss: `losses` needs a known rank.')
    if weights.shape.ndims is None:
      raise ValueError('compute_weighted_loss: `weights` needs a known rank.')
    if weights.shape.ndims > 1 and weights.shape[-1] in (None, 1):
      weights = tf.squeeze(weights, [-1])
    total = _scale_losses(losses, weights)
    num_present = _num_present(losses, weights)
    mean_loss = tf.cast(tf.math.divide_no_nan(total, num_present, name='value'), input_dtype)
    add_loss(mean_loss)
    return mean_loss


def add_loss(loss, loss_collection=_LOSSES):
  """Adds a custom loss to `loss_collection` so `get_total_loss` includes it."""
  if loss_collection:
    tf.compat.v1.add_to_collection(loss_collection, loss)


def get_losses(scope=None, loss_collection=_LOSSES):
  """The losses in `loss_collection` whose names match `scope`."""
  return tf.compat.v1.get_collection(loss_collection, scope)


def get_regularization_losses(scope=None):
  """The regularization losses (REGULARIZATION_LOSSES collection) matching `scope`."""
  return tf.compat.v1.get_collection(tf.compat.v1.GraphKeys.REGULARIZATION_LOSSES, scope)


def get_total_loss(add_regularization_losses=True, name='total_loss'):
  """Sum of every added loss and, by default, every regularization loss.

  Raises:
    ValueError: when there is no loss to sum (TF-Slim failed inside `add_n`).
  """
  losses = get_losses()
  if add_regularization_losses:
    losses += get_regularization_losses()
  if not losses:
    raise ValueError('get_total_loss: no losses in the graph; create one with a '
                     'slim.losses function or slim.losses.add_loss first.')
  return tf.add_n(losses, name=name)


def absolute_difference(predictions, labels=None, weights=1.0, scope=None):
  """Weighted mean of |predictions - labels|."""
  _require(labels, 'labels', 'absolute_difference')
  with tf.compat.v1.name_scope(scope, 'absolute_difference',
                               [predictions, labels, weights]) as scope:
    predictions, labels = _as_float(predictions, labels, 'absolute_difference')
    return compute_weighted_loss(tf.abs(predictions - labels), weights, scope=scope)


def sigmoid_cross_entropy(logits, multi_class_labels, weights=1.0, label_smoothing=0,
                          scope=None):
  """Sigmoid cross-entropy; `label_smoothing` pulls the labels towards 1/2."""
  with tf.compat.v1.name_scope(scope, 'sigmoid_cross_entropy_loss',
                               [logits, multi_class_labels, weights]) as scope:
    logits = tf.convert_to_tensor(logits)
    multi_class_labels = tf.cast(multi_class_labels, logits.dtype)
    _check_shapes(logits, multi_class_labels, 'sigmoid_cross_entropy', first='logits')
    if label_smoothing > 0:
      multi_class_labels = multi_class_labels * (1 - label_smoothing) + 0.5 * label_smoothing
    losses = tf.nn.sigmoid_cross_entropy_with_logits(labels=multi_class_labels, logits=logits,
                                                     name='xentropy')
    return compute_weighted_loss(losses, weights, scope=scope)


def softmax_cross_entropy(logits, onehot_labels, weights=1.0, label_smoothing=0, scope=None):
  """Softmax cross-entropy over `[batch_size, num_classes]` logits and one-hot labels.

  With `label_smoothing` > 0 the labels become
  `onehot * (1 - label_smoothing) + label_smoothing / num_classes`.
  """
  with tf.compat.v1.name_scope(scope, 'softmax_cross_entropy_loss',
                               [logits, onehot_labels, weights]) as scope:
    logits = tf.convert_to_tensor(logits)
    onehot_labels = tf.cast(onehot_labels, logits.dtype)
    _check_shapes(logits, onehot_labels, 'softmax_cross_entropy', first='logits')
    if label_smoothing > 0:
      num_classes = tf.cast(tf.shape(onehot_labels)[1], logits.dtype)
      onehot_labels = onehot_labels * (1.0 - label_smoothing) + label_smoothing / num_classes
    losses = tf.nn.softmax_cross_entropy_with_logits(labels=tf.stop_gradient(onehot_labels),
                                                     logits=logits, name='xentropy')
    return compute_weighted_loss(losses, weights, scope=scope)


def sparse_softmax_cross_entropy(logits, labels, weights=1.0, scope=None):
  """Softmax cross-entropy with integer class labels (`[batch_size]` or `[batch_size, 1]`)."""
  with tf.compat.v1.name_scope(scope, 'sparse_softmax_cross_entropy_loss',
                               [logits, labels, weights]) as scope:
    labels = tf.reshape(labels, [tf.shape(labels)[0]])
    losses = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits,
                                                            name='xentropy')
    return compute_weighted_loss(losses, weights, scope=scope)


def log_loss(predictions, labels=None, weights=1.0, epsilon=1e-7, scope=None):
  """Binary log loss of probabilities `predictions` against 0/1 `labels`."""
  _require(labels, 'labels', 'log_loss')
  with tf.compat.v1.name_scope(scope, 'log_loss', [predictions, labels, weights]) as scope:
    predictions, labels = _as_float(predictions, labels, 'log_loss')
    losses = (-labels * tf.math.log(predictions + epsilon)
              - (1 - labels) * tf.math.log(1 - predictions + epsilon))
    return compute_weighted_loss(losses, weights, scope=scope)


def hinge_loss(logits, labels=None, scope=None):
  """Element-wise hinge loss `max(0, 1 - y * logits)` with `y = 2 * labels - 1`.

  As in TF-Slim it returns the unreduced losses and adds nothing to LOSSES;
  pass the result to `compute_weighted_loss` to train on it.
  """
  _require(labels, 'labels', 'hinge_loss')
  with tf.compat.v1.name_scope(scope, 'hinge_loss', [logits, labels]):
    logits, labels = _as_float(logits, labels, 'hinge_loss', first='logits')
    signs = 2 * labels - 1
    return tf.nn.relu(1 - signs * logits)


def mean_squared_error(predictions, labels=None, weights=1.0, scope=None):
  """Weighted mean of (predictions - labels)^2."""
  _require(labels, 'labels', 'mean_squared_error')
  with tf.compat.v1.name_scope(scope, 'mean_squared_error',
                               [predictions, labels, weights]) as scope:
    predictions, labels = _as_float(predictions, labels, 'mean_squared_error')
    losses = tf.math.squared_difference(predictions, labels)
    return compute_weighted_loss(losses, weights, scope=scope)


# The name used by the TF-Slim README (`slim.losses.sum_of_squares`).
sum_of_squares = mean_squared_error


def mean_pairwise_squared_error(predictions, labels=None, weights=1.0, scope=None):
  """Mean over pairs of elements of each batch entry of ((p_i - p_j) - (l_i - l_j))^2.

  Per entry that is `2 * mean(d^2) - 2 * mean(d)^2` with `d = predictions - labels`;
  the entries' values are weighted and summed, as in TF-Slim.
  """
  _require(labels, 'labels', 'mean_pairwise_squared_error')
  with tf.compat.v1.name_scope(scope, 'mean_pairwise_squared_error',
                               [predictions, labels, weights]):
    predictions, labels = _as_float(predictions, labels, 'mean_pairwise_squared_error')
    weights = tf.cast(tf.convert_to_tensor(weights), tf.float32)
    diffs = predictions - labels
    if diffs.shape.ndims is None or weights.shape.ndims is None:
      raise ValueError('mean_pairwise_squared_error: predictions and weights need known ranks.')
    axis = list(range(1, diffs.shape.ndims))
    num_present = _num_present(diffs, weights, per_batch=True)
    term1 = 2.0 * tf.math.divide_no_nan(tf.reduce_sum(tf.square(diffs), axis=axis), num_present)
    term2 = 2.0 * tf.math.divide_no_nan(tf.square(tf.reduce_sum(diffs, axis=axis)),
                                        tf.square(num_present))
    loss = _scale_losses(term1 - term2, weights)
    mean_loss = tf.where(tf.reduce_sum(num_present) > 0, loss, tf.zeros_like(loss), name='value')
    add_loss(mean_loss)
    return mean_loss


def cosine_distance(predictions, labels=None, axis=None, weights=1.0, scope=None, dim=None):
  """Weighted mean of `1 - sum(predictions * labels, axis)` for unit-normalized inputs.

  `dim` is the deprecated name of `axis`.
  """
  _require(labels, 'labels', 'cosine_distance')
  if axis is None:
    axis = dim
  elif dim is not None and dim != axis:
    raise ValueError(f'cosine_distance: `axis`={axis} and `dim`={dim} disagree; pass only axis.')
  if axis is None:
    raise ValueError("cosine_distance: you must specify 'axis'.")
  with tf.compat.v1.name_scope(scope, 'cosine_distance_loss',
                               [predictions, labels, weights]) as scope:
    predictions, labels = _as_float(predictions, labels, 'cosine_distance')
    losses = 1 - tf.reduce_sum(predictions * labels, axis=[axis])
    return compute_weighted_loss(losses, weights, scope=scope)


def _as_float(predictions, labels, function, first='predictions'):
  predictions = tf.convert_to_tensor(predictions)
  labels = tf.convert_to_tensor(labels)
  _check_shapes(predictions, labels, function, first=first)
  return tf.cast(predictions, tf.float32), tf.cast(labels, tf.float32)

"""slim.losses: every loss against NumPy, weighting, and the LOSSES collection."""
import numpy as np
import pytest
import tensorflow as tf

import slimdata as slim

tf1 = tf.compat.v1
RNG = np.random.RandomState(0)
LOGITS = RNG.randn(6, 4).astype(np.float32)
CLASSES = np.array([0, 3, 1, 2, 2, 0])
ONEHOT = np.eye(4, dtype=np.float32)[CLASSES]


@pytest.fixture
def graph():
  with tf.Graph().as_default() as g:
    yield g


def run(fetches):
  with tf1.Session() as sess:
    return sess.run(fetches)


def np_softmax_xent(logits, onehot):
  shifted = logits - logits.max(1, keepdims=True)
  log_probs = shifted - np.log(np.exp(shifted).sum(1, keepdims=True))
  return -(onehot * log_probs).sum(1)


def np_sigmoid_xent(logits, labels):
  probs = 1 / (1 + np.exp(-logits))
  return -(labels * np.log(probs) + (1 - labels) * np.log(1 - probs))


def test_softmax_cross_entropy_is_mean_over_batch_and_collected(graph):
  loss = slim.losses.softmax_cross_entropy(tf.constant(LOGITS), tf.constant(ONEHOT))
  assert slim.losses.get_losses() == [loss]
  np.testing.assert_allclose(run(loss), np_softmax_xent(LOGITS, ONEHOT).mean(), rtol=1e-5)


def test_softmax_cross_entropy_label_smoothing_and_per_example_weights(graph):
  weights = np.array([1, 0, 2, 1, 0, 3], np.float32)
  loss = slim.losses.softmax_cross_entropy(tf.constant(LOGITS), tf.constant(ONEHOT),
                                           weights=tf.constant(weights), label_smoothing=0.2)
  smoothed = ONEHOT * 0.8 + 0.2 / 4
  per_example = np_softmax_xent(LOGITS, smoothed)
  expected = (per_example * weights).sum() / np.count_nonzero(weights)
  np.testing.assert_allclose(run(loss), expected, rtol=1e-5)


def test_scalar_weight_scales_and_zero_weight_gives_zero(graph):
  scaled = slim.losses.softmax_cross_entropy(tf.constant(LOGITS), tf.constant(ONEHOT), weights=2.5)
  zero = slim.losses.softmax_cross_entropy(tf.constant(LOGITS), tf.constant(ONEHOT), weights=0.0)
  scaled_value, zero_value = run([scaled, zero])
  np.testing.assert_allclose(scaled_value, 2.5 * np_softmax_xent(LOGITS, ONEHOT).mean(), rtol=1e-5)
  assert zero_value == 0.0


def test_sparse_softmax_cross_entropy_matches_one_hot(graph):
  loss = slim.losses.sparse_softmax_cross_entropy(tf.constant(LOGITS),
                                                  tf.constant(CLASSES.reshape(6, 1)))
  np.testing.assert_allclose(run(loss), np_softmax_xent(LOGITS, ONEHOT).mean(), rtol=1e-5)


def test_sigmoid_cross_entropy_with_smoothing(graph):
  labels = (RNG.rand(6, 4) > 0.5).astype(np.float32)
  loss = slim.losses.sigmoid_cross_entropy(tf.constant(LOGITS), tf.constant(labels),
                                           label_smoothing=0.1)
  smoothed = labels * 0.9 + 0.05
  np.testing.assert_allclose(run(loss), np_sigmoid_xent(LOGITS, smoothed).mean(), rtol=1e-5)


def test_mean_squared_error_and_its_old_name(graph):
  predictions = RNG.randn(5, 3).astype(np.float32)
  labels = RNG.randn(5, 3).astype(np.float32)
  weights = np.array([[1], [0], [2], [1], [1]], np.float32)  # [batch, 1] is per example
  mse = slim.losses.mean_squared_error(tf.constant(predictions), tf.constant(labels),
                                       weights=tf.constant(weights))
  sos = slim.losses.sum_of_squares(tf.constant(predictions), tf.constant(labels))
  squared = (predictions - labels) ** 2
  expected_weighted = (squared * weights).sum() / (4 * 3)  # four examples with weight, 3 each
  mse_value, sos_value = run([mse, sos])
  np.testing.assert_allclose(mse_value, expected_weighted, rtol=1e-5)
  np.testing.assert_allclose(sos_value, squared.mean(), rtol=1e-5)


def test_absolute_difference_with_element_weights(graph):
  predictions = RNG.randn(4, 3).astype(np.float32)
  labels = RNG.randn(4, 3).astype(np.float32)
  weights = (RNG.rand(4, 3) > 0.4).astype(np.float32) * 3
  loss = slim.losses.absolute_difference(tf.constant(predictions), tf.constant(labels),
                                         weights=tf.constant(weights))
  expected = (np.abs(predictions - labels) * weights).sum() / np.count_nonzero(weights)
  np.testing.assert_allclose(run(loss), expected, rtol=1e-5)


def test_log_loss(graph):
  probs = RNG.uniform(0.05, 0.95, size=(8, 2)).astype(np.float32)
  labels = (RNG.rand(8, 2) > 0.5).astype(np.float32)
  loss = slim.losses.log_loss(tf.constant(probs), tf.constant(labels))
  eps = 1e-7
  expected = -(labels * np.log(probs + eps) + (1 - labels) * np.log(1 - probs + eps)).mean()
  np.testing.assert_allclose(run(loss), expected, rtol=1e-5)


def test_hinge_loss_is_elementwise_and_not_collected(graph):
  logits = np.array([[2.0, -0.5], [0.3, -3.0]], np.float32)
  labels = np.array([[1, 0], [0, 1]], np.float32)
  losses = slim.losses.hinge_loss(tf.constant(logits), tf.constant(labels))
  expected = np.maximum(0, 1 - (2 * labels - 1) * logits)
  np.testing.assert_allclose(run(losses), expected, rtol=1e-6)
  assert slim.losses.get_losses() == []


def test_cosine_distance_along_axis_and_deprecated_dim(graph):
  a = RNG.randn(5, 3).astype(np.float32)
  b = RNG.randn(5, 3).astype(np.float32)
  a /= np.linalg.norm(a, axis=1, keepdims=True)
  b /= np.linalg.norm(b, axis=1, keepdims=True)
  by_axis = slim.losses.cosine_distance(tf.constant(a), tf.constant(b), axis=1)
  by_dim = slim.losses.cosine_distance(tf.constant(a), tf.constant(b), dim=1)
  expected = (1 - (a * b).sum(1)).mean()
  axis_value, dim_value = run([by_axis, by_dim])
  np.testing.assert_allclose(axis_value, expected, rtol=1e-5)
  np.testing.assert_allclose(dim_value, expected, rtol=1e-5)
  with pytest.raises(ValueError, match='axis'):
    slim.losses.cosine_distance(tf.constant(a), tf.constant(b))


def test_mean_pairwise_squared_error_against_all_pairs(graph):
  predictions = RNG.randn(3, 4).astype(np.float32)
  labels = RNG.randn(3, 4).astype(np.float32)
  weights = np.array([1.0, 2.0, 0.5], np.float32)
  loss = slim.losses.mean_pairwise_squared_error(tf.constant(predictions), tf.constant(labels),
                                                 weights=tf.constant(weights))
  expected = 0.0
  for p, l, w in zip(predictions, labels, weights):
    pairs = ((p[:, None] - p[None, :]) - (l[:, None] - l[None, :])) ** 2
    expected += w * pairs.mean()
  np.testing.assert_allclose(run(loss), expected, rtol=1e-5)
  assert slim.losses.get_losses() == [loss]


def test_compute_weighted_loss_adds_to_collection(graph):
  raw = RNG.rand(4, 2).astype(np.float32)
  loss = slim.losses.compute_weighted_loss(tf.constant(raw), weights=tf.constant([1., 1., 0., 0.]))
  np.testing.assert_allclose(run(loss), raw[:2].mean(), rtol=1e-6)
  assert slim.losses.get_losses() == [loss]


def test_total_loss_adds_custom_and_regularization_losses(graph):
  first = slim.losses.mean_squared_error(tf.constant([1.0, 2.0]), tf.constant([0.0, 0.0]))
  custom = tf.constant(0.25)
  slim.losses.add_loss(custom)
  tf1.add_to_collection(tf1.GraphKeys.REGULARIZATION_LOSSES, tf.constant(10.0))
  assert slim.losses.get_losses() == [first, custom]
  assert len(slim.losses.get_regularization_losses()) == 1
  with_reg = slim.losses.get_total_loss()
  without_reg = slim.losses.get_total_loss(add_regularization_losses=False)
  with_value, without_value = run([with_reg, without_reg])
  assert with_value == pytest.approx(2.5 + 0.25 + 10.0)
  assert without_value == pytest.approx(2.5 + 0.25)
  assert with_reg.op.name == 'total_loss'


def test_get_losses_filters_by_scope(graph):
  with tf.name_scope('task_a'):
    a = slim.losses.absolute_difference(tf.constant([1.0]), tf.constant([0.0]))
  slim.losses.absolute_difference(tf.constant([1.0]), tf.constant([0.0]))
  assert slim.losses.get_losses(scope='task_a') == [a]


def test_invalid_arguments_fail_before_building(graph):
  with pytest.raises(ValueError, match='labels'):
    slim.losses.mean_squared_error(tf.constant([1.0]))
  with pytest.raises(ValueError, match='shape'):
    slim.losses.softmax_cross_entropy(tf.constant(LOGITS), tf.constant(ONEHOT[:, :3]))
  with pytest.raises(ValueError, match='no losses'):
    slim.losses.get_total_loss()


def test_compute_weighted_loss_of_a_scalar(graph):
  weighted = slim.losses.compute_weighted_loss(tf.constant(3.0), weights=2.0)
  zeroed = slim.losses.compute_weighted_loss(tf.constant(3.0), weights=0.0)
  assert run([weighted, zeroed]) == [6.0, 0.0]

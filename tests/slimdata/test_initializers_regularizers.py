"""Initializers (sample statistics of variance scaling) and regularizers (values vs NumPy)."""
import math

import numpy as np
import pytest
import tensorflow as tf

import slimdata as slim

import layers_testlib as lib

_v1 = tf.compat.v1


def _sample(initializer, shape):
  with tf.Graph().as_default():
    return lib.run(initializer(shape))


@pytest.mark.parametrize('mode,uniform,n', [('FAN_IN', False, 3 * 3 * 40),
                                            ('FAN_OUT', False, 3 * 3 * 60),
                                            ('FAN_AVG', True, 3 * 3 * 50),
                                            ('FAN_IN', True, 3 * 3 * 40)])
def test_variance_scaling_has_variance_factor_over_n(mode, uniform, n):
  # Fans as TF-Slim: in = kh * kw * in_depth, out = kh * kw * out_depth.
  values = _sample(slim.variance_scaling_initializer(factor=2.0, mode=mode, uniform=uniform,
                                                     seed=1), [3, 3, 40, 60])
  want_std = math.sqrt(2.0 / n)
  assert values.mean() == pytest.approx(0.0, abs=0.05 * want_std)  # ~7 standard errors
  # 21,600 samples: the sample std is within ~1% of the true one.
  assert values.std() == pytest.approx(want_std, rel=0.03)
  if uniform:
    limit = math.sqrt(3.0 * 2.0 / n)
    assert values.min() >= -limit and values.max() <= limit
    assert values.max() > 0.99 * limit
  else:
    # Truncated at two standard deviations of the untruncated normal (stddev sqrt(1.3) larger).
    assert np.abs(values).max() <= 2 * math.sqrt(1.3 * 2.0 / n) * 1.0001


def test_xavier_is_uniform_fan_avg_with_factor_one():
  values = _sample(slim.xavier_initializer(seed=2), [200, 100])
  limit = math.sqrt(6.0 / 300)
  assert values.min() >= -limit and values.max() <= limit
  assert values.std() == pytest.approx(math.sqrt(1.0 / 150), rel=0.03)
  normal = _sample(slim.xavier_initializer_conv2d(uniform=False, seed=3), [5, 5, 16, 16])
  assert normal.std() == pytest.approx(math.sqrt(1.0 / 400), rel=0.05)


def test_initializer_is_the_layers_default():
  with tf.Graph().as_default():
    slim.fully_connected(tf.zeros([1, 400]), 300)
    weights = lib.run(slim.get_unique_variable('fully_connected/weights'))
  assert np.abs(weights).max() <= math.sqrt(6.0 / 700)
  assert weights.std() == pytest.approx(math.sqrt(1.0 / 350), rel=0.03)


def test_initializer_errors():
  with pytest.raises(TypeError, match='mode'):
    slim.variance_scaling_initializer(mode='FAN_MAX')
  with pytest.raises(TypeError, match='floating point'):
    slim.variance_scaling_initializer(dtype=tf.int32)


def test_regularizer_values():
  w = np.array([[1.0, -2.0], [3.0, -0.5]], np.float32)
  with tf.Graph().as_default():
    weights = tf.constant(w)
    l1 = slim.l1_regularizer(0.5)(weights)
    l2 = slim.l2_regularizer(0.25)(weights)
    l1_l2 = slim.l1_l2_regularizer(0.5, 0.25)(weights)
    summed = slim.sum_regularizer([slim.l1_regularizer(1.0), None,
                                   slim.l2_regularizer(1.0)])(weights)
    assert l2.op.name == 'l2_regularizer'
    got = lib.run([l1, l2, l1_l2, summed])
  l1_want = 0.5 * np.abs(w).sum()
  l2_want = 0.25 * (w ** 2).sum() / 2
  np.testing.assert_allclose(got, [l1_want, l2_want, l1_want + l2_want,
                                   np.abs(w).sum() + (w ** 2).sum() / 2], rtol=1e-6)


def test_zero_scale_disables_and_bad_scales_fail():
  assert slim.l2_regularizer(0.0)(tf.ones([2])) is None
  assert slim.l1_regularizer(0.0)(tf.ones([2])) is None
  assert slim.sum_regularizer([None]) is None
  with pytest.raises(ValueError, match='must be a float'):
    slim.l2_regularizer(1)
  with pytest.raises(ValueError, match='must be >= 0'):
    slim.l1_regularizer(-0.1)
  with pytest.raises(ValueError, match='scale_l1 must be a float'):
    slim.l1_l2_regularizer(scale_l1=2)


def test_l1_l2_with_one_scale_zero_is_the_other():
  w = np.array([3.0, -4.0], np.float32)
  with tf.Graph().as_default():
    only_l2 = slim.l1_l2_regularizer(0.0, 1.0)(tf.constant(w))
    only_l1 = slim.l1_l2_regularizer(1.0, 0.0)(tf.constant(w))
    assert lib.run([only_l2, only_l1]) == pytest.approx([12.5, 7.0])


def test_apply_regularization():
  with tf.Graph().as_default():
    a = tf.constant([1.0, 2.0])
    b = tf.constant([[3.0]])
    total = slim.apply_regularization(slim.l2_regularizer(2.0), [a, b])
    assert _v1.get_collection(_v1.GraphKeys.REGULARIZATION_LOSSES) == [total]
    assert lib.run(total) == pytest.approx(2.0 * (1 + 4 + 9) / 2)
    _v1.add_to_collection(_v1.GraphKeys.WEIGHTS, a)
    assert lib.run(slim.apply_regularization(slim.l1_regularizer(1.0))) == pytest.approx(3.0)
    with pytest.raises(ValueError, match='scalar'):
      slim.apply_regularization(lambda w: w, [a])
  with tf.Graph().as_default():
    with pytest.raises(ValueError, match='no weights to regularize'):
      slim.apply_regularization(slim.l2_regularizer(1.0))


def test_layer_regularizers_go_to_regularization_losses():
  with tf.Graph().as_default():
    slim.conv2d(tf.zeros([1, 3, 3, 1]), 2, 1, weights_initializer=tf.ones_initializer(),
                weights_regularizer=slim.l2_regularizer(0.5))
    slim.batch_norm(tf.zeros([2, 2]), scale=True, param_regularizers={
        'gamma': slim.l1_regularizer(1.0)})
    losses = _v1.get_collection(_v1.GraphKeys.REGULARIZATION_LOSSES)
    assert sorted(lib.run(losses)) == pytest.approx([0.5, 2.0])  # 0.5 * 2 / 2; |1| + |1|

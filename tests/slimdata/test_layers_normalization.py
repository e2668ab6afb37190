"""batch_norm and layer_norm against NumPy: outputs, moving statistics, collections."""
import numpy as np
import pytest
import tensorflow as tf

import slimdata as slim

import layers_testlib as lib

_v1 = tf.compat.v1
_Keys = _v1.GraphKeys
_rng = np.random.default_rng(7)

EPS = 0.001


def _x(*shape):
  return (_rng.normal(size=shape) * 2 + 1).astype(np.float32)


def _bn_ref(x, axes, mean, var, beta=0.0, gamma=1.0, eps=EPS):
  return (x - mean) / np.sqrt(var + eps) * gamma + beta


def _names(variables):
  return [v.op.name for v in variables]


def test_variables_and_collections():
  with tf.Graph().as_default():
    slim.batch_norm(tf.zeros([2, 3, 3, 4]), scale=True, scope='bn',
                    variables_collections={'beta': ['B'], 'moving_mean': ['M']})
    assert _names(slim.get_model_variables()) == ['bn/beta', 'bn/gamma', 'bn/moving_mean',
                                                  'bn/moving_variance']
    assert _names(slim.get_trainable_variables()) == ['bn/beta', 'bn/gamma']
    assert _names(_v1.get_collection('B')) == ['bn/beta']
    assert _names(_v1.get_collection('M')) == ['bn/moving_mean']
    assert len(_v1.get_collection(_Keys.UPDATE_OPS)) == 2
    slim.batch_norm(tf.zeros([2, 4]), center=False)
    assert _names(slim.get_model_variables('BatchNorm')) == ['BatchNorm/moving_mean',
                                                             'BatchNorm/moving_variance']


@pytest.mark.parametrize('fused', [None, False])
@pytest.mark.parametrize('shape,data_format', [((4, 3, 3, 2), 'NHWC'), ((4, 2, 3, 3), 'NCHW'),
                                               ((6, 2), 'NHWC'), ((4, 3, 2), 'NHWC'),
                                               ((2, 2, 3, 2, 2), 'NCHW')])
def test_training_normalizes_with_batch_moments_and_updates(fused, shape, data_format):
  x = _x(*shape)
  channel_axis = 1 if data_format == 'NCHW' else len(shape) - 1
  axes = tuple(a for a in range(len(shape)) if a != channel_axis)
  bshape = [1] * len(shape)
  bshape[channel_axis] = -1
  channels = shape[channel_axis]
  beta = np.linspace(-1, 1, channels).astype(np.float32)
  gamma = np.linspace(0.5, 2, channels).astype(np.float32)
  with tf.Graph().as_default():
    out = slim.batch_norm(tf.constant(x), decay=0.9, scale=True, fused=fused,
                          data_format=data_format, param_initializers={
                              'beta': tf.constant_initializer(beta),
                              'gamma': tf.constant_initializer(gamma)
                          })
    updates = _v1.get_collection(_Keys.UPDATE_OPS)
    moving = [slim.get_unique_variable('BatchNorm/moving_mean'),
              slim.get_unique_variable('BatchNorm/moving_variance')]
    with _v1.Session() as sess:
      sess.run(_v1.global_variables_initializer())
      got = sess.run(out)
      assert np.all(sess.run(moving[0]) == 0)  # Updates run only with UPDATE_OPS.
      sess.run(updates)
      mean_after, var_after = sess.run(moving)
  mean, var = x.mean(axis=axes), x.var(axis=axes)
  want = _bn_ref(x, axes, mean.reshape(bshape), var.reshape(bshape), beta.reshape(bshape),
                 gamma.reshape(bshape))
  np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)
  # The fused kernel (ranks 2, 4, 5) feeds the moving variance the unbiased batch variance.
  n = x.size // channels
  fused_kernel = fused is None and len(shape) in (2, 4, 5)
  batch_var = var * n / (n - 1) if fused_kernel else var
  np.testing.assert_allclose(mean_after, 0.1 * mean, rtol=1e-4, atol=1e-5)
  np.testing.assert_allclose(var_after, 0.9 + 0.1 * batch_var, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize('fused', [None, False])
def test_inference_uses_moving_statistics(fused):
  x = _x(3, 2, 2, 3)
  with tf.Graph().as_default():
    out = slim.batch_norm(tf.constant(x), is_training=False, fused=fused, param_initializers={
        'moving_mean': tf.constant_initializer([1.0, 2.0, 3.0]),
        'moving_variance': tf.constant_initializer([4.0, 0.25, 1.0])
    })
    assert _v1.get_collection(_Keys.UPDATE_OPS) == []
    got = lib.run(out)
  want = _bn_ref(x, None, np.array([1.0, 2.0, 3.0]), np.array([4.0, 0.25, 1.0]))
  np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


def test_is_training_placeholder_switches_and_in_place_updates():
  x = _x(4, 2, 2, 2)
  with tf.Graph().as_default():
    training = _v1.placeholder(tf.bool, [])
    out = slim.batch_norm(tf.constant(x), decay=0.5, is_training=training,
                          updates_collections=None)
    assert _v1.get_collection(_Keys.UPDATE_OPS) == []
    moving_mean = slim.get_unique_variable('BatchNorm/moving_mean')
    with _v1.Session() as sess:
      sess.run(_v1.global_variables_initializer())
      inferred = sess.run(out, {training: False})
      assert np.all(sess.run(moving_mean) == 0)
      trained = sess.run(out, {training: True})
      mean_after = sess.run(moving_mean)
  np.testing.assert_allclose(inferred, _bn_ref(x, None, 0.0, 1.0), rtol=1e-4, atol=1e-4)
  axes = (0, 1, 2)
  np.testing.assert_allclose(trained, _bn_ref(x, axes, x.mean(axes), x.var(axes)), rtol=1e-4,
                             atol=1e-4)
  np.testing.assert_allclose(mean_after, 0.5 * x.mean(axes), rtol=1e-4, atol=1e-5)


def test_batch_weights_give_weighted_moments():
  x = _x(4, 3)
  weights = np.array([1.0, 0.0, 2.0, 1.0], np.float32)
  with tf.Graph().as_default():
    out = slim.batch_norm(tf.constant(x), batch_weights=tf.constant(weights))
    got = lib.run(out)
  mean = (x * weights[:, None]).sum(0) / weights.sum()
  var = ((x - mean) ** 2 * weights[:, None]).sum(0) / weights.sum()
  np.testing.assert_allclose(got, _bn_ref(x, None, mean, var), rtol=1e-4, atol=1e-4)


def test_zero_debiased_moving_mean_after_one_step_is_the_batch_mean():
  x = _x(4, 2, 2, 2)
  with tf.Graph().as_default():
    slim.batch_norm(tf.constant(x), decay=0.9, zero_debias_moving_mean=True, scope='bn')
    assert 'bn/bn/moving_mean/biased' in _names(slim.get_variables())  # TF-Slim's name
    updates = _v1.get_collection(_Keys.UPDATE_OPS)
    with _v1.Session() as sess:
      sess.run(_v1.global_variables_initializer())
      sess.run(updates)
      got = sess.run(slim.get_unique_variable('bn/moving_mean'))
  np.testing.assert_allclose(got, x.mean((0, 1, 2)), rtol=1e-4, atol=1e-5)


def test_activation_reuse_and_errors():
  with tf.Graph().as_default():
    x = tf.constant(_x(2, 3))
    out = slim.batch_norm(x, activation_fn=tf.nn.relu, scope='bn', outputs_collections='ends')
    slim.batch_norm(x, scope='bn', reuse=True)
    assert len(slim.get_model_variables()) == 3
    assert list(slim.utils.convert_collection_to_dict('ends')) == ['bn']
    assert lib.run(out).min() >= 0
    with pytest.raises(ValueError, match='data_format'):
      slim.batch_norm(x, data_format='NC')
    with pytest.raises(ValueError, match='channels dimension'):
      slim.batch_norm(_v1.placeholder(tf.float32, [2, None]))
    with pytest.raises(NotImplementedError, match='adjustment'):
      slim.batch_norm(x, adjustment=lambda shape: (1.0, 0.0))
    with pytest.raises(ValueError, match='renorm_clipping keys'):
      slim.batch_norm(x, renorm=True, renorm_clipping={'r_max': 2.0})


def test_batch_renorm_first_step_and_updates():
  # Renorm averages start at mean 0, stddev 1, so the first correction undoes the
  # normalization: r = stddev, d = mean, and the output is x * gamma + beta.
  x = _x(5, 3)
  with tf.Graph().as_default():
    out = slim.batch_norm(tf.constant(x), decay=0.9, renorm=True, renorm_decay=0.5,
                          scale=True, param_initializers={'gamma': tf.constant_initializer(2.0),
                                                          'beta': tf.constant_initializer(1.0)})
    names = ['moving_mean', 'moving_variance', 'moving_stddev', 'renorm_mean', 'renorm_stddev']
    tracked = [slim.get_unique_variable('BatchNorm/' + n) for n in names]
    with _v1.Session() as sess:
      sess.run(_v1.global_variables_initializer())
      got = sess.run([out] + _v1.get_collection(_Keys.UPDATE_OPS))[0]
      values = dict(zip(names, sess.run(tracked)))
  np.testing.assert_allclose(got, 2.0 * x + 1.0, rtol=1e-4, atol=1e-4)
  mean, stddev = x.mean(0), np.sqrt(x.var(0) + EPS)
  np.testing.assert_allclose(values['renorm_mean'], 0.5 * mean, rtol=1e-5, atol=1e-6)
  np.testing.assert_allclose(values['renorm_stddev'], 0.5 + 0.5 * stddev, rtol=1e-5)
  np.testing.assert_allclose(values['moving_mean'], 0.1 * mean, rtol=1e-5, atol=1e-6)
  moving_stddev = 0.9 + 0.1 * stddev
  np.testing.assert_allclose(values['moving_stddev'], moving_stddev, rtol=1e-5)
  np.testing.assert_allclose(values['moving_variance'], moving_stddev ** 2 - EPS, rtol=1e-5)


def test_batch_renorm_clipping_and_inference():
  x = _x(6, 2) * 5
  with tf.Graph().as_default():
    training = _v1.placeholder(tf.bool, [])
    out = slim.batch_norm(tf.constant(x), renorm=True, is_training=training,
                          renorm_clipping={'rmax': 1.5, 'rmin': 1.0, 'dmax': 0.25})
    with _v1.Session() as sess:
      sess.run(_v1.global_variables_initializer())
      trained, inferred = sess.run(out, {training: True}), sess.run(out, {training: False})
  mean, stddev = x.mean(0), np.sqrt(x.var(0) + EPS)
  r, d = np.clip(stddev, 1.0, 1.5), np.clip(mean, -0.25, 0.25)
  np.testing.assert_allclose(trained, (x - mean) / stddev * r + d, rtol=1e-4, atol=1e-4)
  np.testing.assert_allclose(inferred, x / np.sqrt(1 + EPS), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize('begin_norm_axis,begin_params_axis', [(1, -1), (-1, -1), (2, 1)])
def test_layer_norm_matches_numpy(begin_norm_axis, begin_params_axis):
  x = _x(2, 3, 4)
  with tf.Graph().as_default():
    out = slim.layer_norm(tf.constant(x), begin_norm_axis=begin_norm_axis,
                          begin_params_axis=begin_params_axis)
    beta = slim.get_unique_variable('LayerNorm/beta')
    gamma = slim.get_unique_variable('LayerNorm/gamma')
    assert beta.shape.as_list() == list(x.shape[begin_params_axis:])
    init = [beta.assign(tf.fill(tf.shape(beta), 0.5)), gamma.assign(tf.fill(tf.shape(gamma), 2.0))]
    with _v1.Session() as sess:
      sess.run(_v1.global_variables_initializer())
      sess.run(init)
      got = sess.run(out)
  axes = tuple(range(begin_norm_axis % 3, 3))
  mean, var = x.mean(axes, keepdims=True), x.var(axes, keepdims=True)
  np.testing.assert_allclose(got, (x - mean) / np.sqrt(var + 1e-12) * 2.0 + 0.5, rtol=1e-4,
                             atol=1e-4)


def test_layer_norm_without_params_and_errors():
  with tf.Graph().as_default():
    slim.layer_norm(tf.zeros([2, 3]), center=False, scale=False)
    assert slim.get_variables() == []
    with pytest.raises(ValueError, match='must be < rank'):
      slim.layer_norm(tf.zeros([2, 3]), begin_norm_axis=2)

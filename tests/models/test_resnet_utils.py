"""resnet_utils: size-independent strided convolution, subsampling, block stacking."""
import numpy as np
import pytest
import tensorflow as tf

import slimdata as slim
from models import resnet_utils


def _conv_same_reference(image, kernel, stride):
  """NumPy: pad (k-1)//2 before and the rest after, then a VALID strided correlation."""
  k = kernel.shape[0]
  beg, end = (k - 1) // 2, k - 1 - (k - 1) // 2
  padded = np.pad(image, [(beg, end), (beg, end)])
  size = (padded.shape[0] - k) // stride + 1
  return np.array([[np.sum(padded[i * stride:i * stride + k, j * stride:j * stride + k] * kernel)
                    for j in range(size)] for i in range(size)])


@pytest.mark.parametrize('size', [6, 7])
def test_conv2d_same_pads_the_same_for_even_and_odd_inputs(size):
  image = np.arange(size * size, dtype=np.float32).reshape(size, size)
  kernel = np.arange(9, dtype=np.float32).reshape(3, 3) / 10
  with tf.Graph().as_default():
    with slim.arg_scope([slim.conv2d], activation_fn=None, normalizer_fn=None,
                        weights_initializer=tf.constant_initializer(kernel.reshape(3, 3, 1, 1)),
                        biases_initializer=tf.zeros_initializer()):
      output = resnet_utils.conv2d_same(tf.constant(image.reshape(1, size, size, 1)), 1, 3,
                                        stride=2, scope='conv')
    with tf.compat.v1.Session() as sess:
      sess.run(tf.compat.v1.global_variables_initializer())
      got = sess.run(output)[0, :, :, 0]
  np.testing.assert_allclose(got, _conv_same_reference(image, kernel, 2), rtol=1e-6)


def test_subsample_keeps_every_factor_th_pixel():
  image = np.arange(36, dtype=np.float32).reshape(1, 6, 6, 1)
  with tf.Graph().as_default(), tf.compat.v1.Session() as sess:
    got = sess.run(resnet_utils.subsample(tf.constant(image), 2))
    assert resnet_utils.subsample(tf.constant(image), 1).op.type == 'Const'
  np.testing.assert_array_equal(got, image[:, ::2, ::2, :])


def test_bottleneck_blocks_put_the_stride_on_each_blocks_last_unit():
  blocks = resnet_utils.bottleneck_blocks(lambda net, **kwargs: net, (2, 3, 1, 2))
  assert [b.scope for b in blocks] == ['block1', 'block2', 'block3', 'block4']
  assert [[u['stride'] for u in b.args] for b in blocks] == [[1, 2], [1, 1, 2], [2], [1, 1]]
  assert [b.args[0]['depth'] for b in blocks] == [256, 512, 1024, 2048]
  assert [b.args[0]['depth_bottleneck'] for b in blocks] == [64, 128, 256, 512]


def test_unreachable_output_stride_is_an_error():
  blocks = resnet_utils.bottleneck_blocks(lambda net, rate, **unit: net, (1, 1, 1, 1))
  with tf.Graph().as_default(), pytest.raises(ValueError, match='output_stride 3'):
    resnet_utils.stack_blocks_dense(tf.zeros([1, 8, 8, 1]), blocks, output_stride=3)

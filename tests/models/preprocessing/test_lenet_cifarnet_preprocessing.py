"""LeNet and CifarNet preprocessing: sizes, dtypes, ranges, values against NumPy."""
import numpy as np
import pytest
import tensorflow as tf

from models.preprocessing import cifarnet_preprocessing
from models.preprocessing import lenet_preprocessing


def _run(fn, image, *args, **kwargs):
  with tf.Graph().as_default():
    output = fn(tf.constant(image), *args, **kwargs)
    with tf.compat.v1.Session() as sess:
      return output, sess.run(output)


def _pixels(shape, seed=0):
  return np.random.default_rng(seed).integers(0, 256, shape).astype(np.uint8)


@pytest.mark.parametrize('is_training', [False, True])
def test_lenet_scales_to_minus_one_one_and_centre_crops(is_training):
  image = _pixels([30, 28, 1])
  tensor, got = _run(lenet_preprocessing.preprocess_image, image, 28, 28,
                     is_training=is_training)
  assert tensor.dtype == tf.float32 and got.shape == (28, 28, 1)
  np.testing.assert_allclose(got, (image[1:29].astype(np.float32) - 128) / 128)
  assert got.min() >= -1 and got.max() < 1


def test_lenet_pads_with_black_and_keeps_height_and_width_apart():
  image = _pixels([20, 10, 1])
  _, got = _run(lenet_preprocessing.preprocess_image, image, 24, 12)
  assert got.shape == (24, 12, 1)
  np.testing.assert_allclose(got[2:22, 1:11], (image.astype(np.float32) - 128) / 128)
  assert (got[:2] == -1).all() and (got[:, :1] == -1).all()


def test_cifarnet_eval_is_per_image_standardization_of_the_centre():
  image = _pixels([36, 36, 3])
  tensor, got = _run(cifarnet_preprocessing.preprocess_image, image, 32, 32,
                     add_image_summaries=False)
  centre = image[2:34, 2:34].astype(np.float64)
  expected = (centre - centre.mean()) / max(centre.std(), 1 / np.sqrt(centre.size))
  assert tensor.dtype == tf.float32 and got.shape == (32, 32, 3)
  np.testing.assert_allclose(got, expected, atol=1e-4)


def test_cifarnet_train_crops_flips_jitters_and_standardizes():
  image = _pixels([32, 32, 3])
  with tf.Graph().as_default():
    tf.compat.v1.set_random_seed(0)
    output = cifarnet_preprocessing.preprocess_image(tf.constant(image), 32, 32,
                                                     is_training=True)
    summaries = tf.compat.v1.get_collection(tf.compat.v1.GraphKeys.SUMMARIES)
    with tf.compat.v1.Session() as sess:
      outputs = [sess.run(output) for _ in range(3)]
  assert len(summaries) == 2  # research/slim's 'image' and 'distorted_image'
  for got in outputs:
    assert got.shape == (32, 32, 3) and got.dtype == np.float32
    assert abs(got.mean()) < 1e-3 and abs(got.std() - 1) < 1e-2
  assert not np.allclose(outputs[0], outputs[1])  # random, per call

"""VGG preprocessing: aspect-preserving resize, crops, the ImageNet mean."""
import numpy as np
import pytest
import tensorflow as tf

from models.preprocessing import vgg_preprocessing

MEAN = np.array([123.68, 116.78, 103.94], np.float32)


def _pixels(shape, seed=0):
  return np.random.default_rng(seed).integers(0, 256, shape).astype(np.uint8)


def _run(image, *args, **kwargs):
  with tf.Graph().as_default():
    output = vgg_preprocessing.preprocess_image(tf.constant(image), *args, **kwargs)
    with tf.compat.v1.Session() as sess:
      return output, sess.run(output)


def test_eval_takes_the_centre_of_the_resized_image_minus_the_mean():
  # The smaller side is already 256, so the resize is the identity.
  image = _pixels([256, 320, 3])
  tensor, got = _run(image, 224, 224, is_training=False)
  assert tensor.dtype == tf.float32 and tensor.shape.as_list() == [224, 224, 3]
  np.testing.assert_allclose(got, image[16:240, 48:272].astype(np.float32) - MEAN, atol=1e-4)


@pytest.mark.parametrize('shape,expected', [((300, 400), (256, 341)), ((500, 256), (500, 256)),
                                            ((100, 50), (512, 256))])
def test_resize_scales_the_smaller_side_to_256(shape, expected):
  with tf.Graph().as_default(), tf.compat.v1.Session() as sess:
    got = sess.run(vgg_preprocessing._aspect_preserving_resize(
        tf.zeros(list(shape) + [3], tf.uint8), 256))
  assert got.shape == expected + (3,)


def test_train_output_is_a_224_crop_minus_the_mean():
  # A constant colour survives resize, crop and flip unchanged.
  image = np.full([300, 400, 3], [200, 100, 50], np.uint8)
  tensor, got = _run(image, 224, 224, is_training=True)
  assert tensor.shape.as_list() == [224, 224, 3] and got.dtype == np.float32
  np.testing.assert_allclose(got, np.broadcast_to(np.float32([200, 100, 50]) - MEAN, got.shape),
                             atol=1e-3)


def test_train_crops_vary_and_stay_in_the_pixel_range():
  image = _pixels([300, 400, 3])
  with tf.Graph().as_default():
    output = vgg_preprocessing.preprocess_image(tf.constant(image), 224, 224, is_training=True)
    with tf.compat.v1.Session() as sess:
      outputs = [sess.run(output) for _ in range(3)]
  for got in outputs:
    assert (got >= -MEAN - 1e-3).all() and (got <= 255 - MEAN + 1e-3).all()
  assert not np.allclose(outputs[0], outputs[1])


def test_crop_larger_than_the_image_fails_when_run():
  with tf.Graph().as_default():
    output = vgg_preprocessing._central_crop(tf.zeros([10, 10, 3]), 20, 20)
    with tf.compat.v1.Session() as sess, pytest.raises(tf.errors.InvalidArgumentError,
                                                       match='Crop size greater'):
      sess.run(output)

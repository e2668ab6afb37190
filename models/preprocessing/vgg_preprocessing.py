"""VGG/ResNet preprocessing: aspect-preserving resize, crop, subtract the ImageNet mean.

    image = vgg_preprocessing.preprocess_image(image, 224, 224, is_training=True)

Training resizes the smaller side to a random length in [256, 512] and takes a random crop
(scale jittering, arXiv:1409.1556); evaluation resizes it to 256 and takes the centre.
Output: float32 RGB with the per-channel ImageNet mean subtracted (no scaling).
"""
import tensorflow as tf

_R_MEAN = 123.68
_G_MEAN = 116.78
_B_MEAN = 103.94
_RESIZE_SIDE_MIN = 256
_RESIZE_SIDE_MAX = 512


def _crop(image, offset_height, offset_width, crop_height, crop_width):
  """`image[offset:offset + crop]`, failing at run time if the crop does not fit."""
  shape = tf.shape(image)
  fits = tf.debugging.assert_equal(
      tf.logical_and(shape[0] >= crop_height, shape[1] >= crop_width), True,
      message='Crop size greater than the image size.')
  cropped_shape = tf.stack([crop_height, crop_width, shape[2]])
  with tf.control_dependencies([fits]):
    image = tf.slice(image, tf.stack([offset_height, offset_width, 0]), cropped_shape)
  return tf.reshape(image, cropped_shape)


def _random_crop(image, crop_height, crop_width):
  shape = tf.shape(image)
  offset_height = tf.random.uniform([], maxval=shape[0] - crop_height + 1, dtype=tf.int32)
  offset_width = tf.random.uniform([], maxval=shape[1] - crop_width + 1, dtype=tf.int32)
  return _crop(image, offset_height, offset_width, crop_height, crop_width)


def _central_crop(image, crop_height, crop_width):
  shape = tf.shape(image)
  return _crop(image, (shape[0] - crop_height) // 2, (shape[1] - crop_width) // 2,
               crop_height, crop_width)


def _mean_image_subtraction(image, means):
  """Subtracts `means[i]` from channel i of a `[height, width, len(means)]` image."""
  if image.shape.rank != 3:
    raise ValueError(f'image must be [height, width, channels], got shape {image.shape}')
  if image.shape[-1] != len(means):
    raise ValueError(f'image has {image.shape[-1]} channels, but {len(means)} means given')
  return image - tf.constant(means, dtype=image.dtype)


def _smallest_size_at_least(height, width, smallest_side):
  """The (height, width) that scales the smaller side to `smallest_side`, keeping the ratio."""
  height = tf.cast(height, tf.float32)
  width = tf.cast(width, tf.float32)
  smallest_side = tf.cast(smallest_side, tf.float32)
  scale = smallest_side / tf.minimum(height, width)
  return (tf.cast(tf.math.rint(height * scale), tf.int32),
          tf.cast(tf.math.rint(width * scale), tf.int32))


def _aspect_preserving_resize(image, smallest_side):
  """Bilinear resize (TF1 pixel alignment, as the checkpoints were trained) of the smaller side."""
  shape = tf.shape(image)
  new_height, new_width = _smallest_size_at_least(shape[0], shape[1], smallest_side)
  resized = tf.compat.v1.image.resize_bilinear(tf.expand_dims(image, 0),
                                               tf.stack([new_height, new_width]),
                                               align_corners=False)
  resized = tf.squeeze(resized, [0])
  resized.set_shape([None, None, 3])
  return resized


def preprocess_for_train(image, output_height, output_width, resize_side_min=_RESIZE_SIDE_MIN,
                         resize_side_max=_RESIZE_SIDE_MAX):
  """Random smaller side in [min, max], random crop, random flip, mean subtraction."""
  resize_side = tf.random.uniform([], minval=resize_side_min, maxval=resize_side_max + 1,
                                  dtype=tf.int32)
  image = _aspect_preserving_resize(image, resize_side)
  image = _random_crop(image, output_height, output_width)
  image.set_shape([output_height, output_width, 3])
  image = tf.image.random_flip_left_right(tf.cast(image, tf.float32))
  return _mean_image_subtraction(image, [_R_MEAN, _G_MEAN, _B_MEAN])


def preprocess_for_eval(image, output_height, output_width, resize_side):
  """Smaller side to `resize_side`, central crop, mean subtraction."""
  image = _aspect_preserving_resize(image, resize_side)
  image = _central_crop(image, output_height, output_width)
  image.set_shape([output_height, output_width, 3])
  return _mean_image_subtraction(tf.cast(image, tf.float32), [_R_MEAN, _G_MEAN, _B_MEAN])


def preprocess_image(image, output_height, output_width, is_training=False,
                     resize_side_min=_RESIZE_SIDE_MIN, resize_side_max=_RESIZE_SIDE_MAX,
                     use_grayscale=False):
  """Train or eval preprocessing of one `[height, width, 3]` image; float32 out.

  Evaluation resizes the smaller side to `resize_side_min`. `use_grayscale` is not
  supported (the mean is per RGB channel) and raises ValueError.
  """
  if use_grayscale:
    raise ValueError('vgg preprocessing subtracts a per-channel RGB mean; use_grayscale=True '
                     'is not supported.')
  if is_training:
    return preprocess_for_train(image, output_height, output_width, resize_side_min,
                                resize_side_max)
  return preprocess_for_eval(image, output_height, output_width, resize_side_min)

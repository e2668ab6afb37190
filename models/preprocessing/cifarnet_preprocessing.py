"""CifarNet preprocessing: pad-and-crop, flip and colour jitter to train; standardize.

    image = cifarnet_preprocessing.preprocess_image(image, 32, 32, is_training=True)
"""
import tensorflow as tf

_PADDING = 4


def _summary(name, image, add_image_summaries):
  if add_image_summaries:
    tf.compat.v1.summary.image(name, tf.expand_dims(image, 0))


def preprocess_for_train(image, output_height, output_width, padding=_PADDING,
                         add_image_summaries=True, use_grayscale=False):
  """Zero-pad by `padding`, random crop, random flip, brightness and contrast; standardize."""
  _summary('image', image, add_image_summaries)
  image = tf.cast(image, tf.float32)
  if use_grayscale:
    image = tf.image.rgb_to_grayscale(image)
  if padding > 0:
    image = tf.pad(image, [[padding, padding], [padding, padding], [0, 0]])
  channels = 1 if use_grayscale else 3
  distorted = tf.image.random_crop(image, [output_height, output_width, channels])
  distorted = tf.image.random_flip_left_right(distorted)
  _summary('distorted_image', distorted, add_image_summaries)
  # Pixel values are 0..255 here, hence a brightness delta of 63, as research/slim.
  distorted = tf.image.random_brightness(distorted, max_delta=63)
  distorted = tf.image.random_contrast(distorted, lower=0.2, upper=1.8)
  return tf.image.per_image_standardization(distorted)


def preprocess_for_eval(image, output_height, output_width, add_image_summaries=True,
                        use_grayscale=False):
  """Centre crop or pad to the output size; standardize (zero mean, unit variance)."""
  _summary('image', image, add_image_summaries)
  image = tf.cast(image, tf.float32)
  if use_grayscale:
    image = tf.image.rgb_to_grayscale(image)
  image = tf.image.resize_with_crop_or_pad(image, output_height, output_width)
  _summary('resized_image', image, add_image_summaries)
  return tf.image.per_image_standardization(image)


def preprocess_image(image, output_height, output_width, is_training=False,
                     add_image_summaries=True, use_grayscale=False):
  """Train or eval preprocessing of one `[height, width, 3]` uint8 image; float32 out."""
  if is_training:
    return preprocess_for_train(image, output_height, output_width,
                                add_image_summaries=add_image_summaries,
                                use_grayscale=use_grayscale)
  return preprocess_for_eval(image, output_height, output_width,
                             add_image_summaries=add_image_summaries,
                             use_grayscale=use_grayscale)

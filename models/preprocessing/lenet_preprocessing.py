"""LeNet preprocessing: crop or pad to the output size, scale pixels to [-1, 1).

    image = lenet_preprocessing.preprocess_image(image, 28, 28)   # float32 [28, 28, 1]
"""
import tensorflow as tf


def preprocess_image(image, output_height, output_width, is_training=False,
                     use_grayscale=False):
  """`(image - 128) / 128`, centre-cropped or zero-padded to `[output_height, output_width]`.

  research/slim passed width and height to `resize_image_with_crop_or_pad` swapped, which
  only mattered for non-square outputs; here height is height.

  Args:
    image: `[height, width, channels]`, any numeric dtype (uint8 pixels).
    output_height, output_width: the output size.
    is_training: unused (LeNet has no training augmentation); kept for the common signature.
    use_grayscale: convert an RGB image to one channel first.
  """
  del is_training  # The same transform trains and evaluates.
  image = tf.cast(image, tf.float32)
  if use_grayscale:
    image = tf.image.rgb_to_grayscale(image)
  image = tf.image.resize_with_crop_or_pad(image, output_height, output_width)
  return (image - 128.0) / 128.0

"""Preprocessing by name: a net's name gives the preprocessing it was trained with.

    preprocess = preprocessing_factory.get_preprocessing('resnet_v1_50', is_training=True)
    image = preprocess(image, 224, 224)          # vgg preprocessing, as research/slim

`PREPROCESSINGS` maps every name (family names and net names) to a module with
`preprocess_image(image, height, width, is_training=..., ...)`.
"""
from models.preprocessing import cifarnet_preprocessing
from models.preprocessing import inception_preprocessing
from models.preprocessing import lenet_preprocessing
from models.preprocessing import vgg_preprocessing

_INCEPTION_NETS = (
    'inception', 'inception_v1', 'inception_v2', 'inception_v3', 'inception_v4',
    'inception_resnet_v2', 'mobilenet_v1', 'mobilenet_v1_075', 'mobilenet_v1_050',
    'mobilenet_v1_025', 'mobilenet_v2', 'mobilenet_v2_035', 'mobilenet_v2_140',
    'nasnet_mobile', 'nasnet_large', 'pnasnet_mobile', 'pnasnet_large')
_VGG_NETS = (
    'vgg', 'vgg_a', 'vgg_16', 'vgg_19', 'resnet_v1_50', 'resnet_v1_101', 'resnet_v1_152',
    'resnet_v1_200', 'resnet_v2_50', 'resnet_v2_101', 'resnet_v2_152', 'resnet_v2_200',
    # research/slim had no entry for AlexNet, so training it by name failed; it was
    # trained on VGG-style crops.
    'alexnet_v2')

PREPROCESSINGS = {
    'cifarnet': cifarnet_preprocessing,
    'lenet': lenet_preprocessing,
    **{name: inception_preprocessing for name in _INCEPTION_NETS},
    **{name: vgg_preprocessing for name in _VGG_NETS},
}


def get_preprocessing(name, is_training=False, use_grayscale=False):
  """Returns `fn(image, output_height, output_width, **kwargs)` -> preprocessed float32 image.

  `kwargs` go to the module's `preprocess_image` (e.g. `bbox=` or `fast_mode=` for
  Inception, `resize_side_min=` for VGG, `add_image_summaries=False`).

  Raises:
    ValueError: `name` is unknown; the message lists the known names.
  """
  if name not in PREPROCESSINGS:
    raise ValueError(f'unknown preprocessing {name!r}; known: {", ".join(sorted(PREPROCESSINGS))}')
  module = PREPROCESSINGS[name]

  def preprocessing_fn(image, output_height, output_width, **kwargs):
    if use_grayscale:
      kwargs['use_grayscale'] = True
    return module.preprocess_image(image, output_height, output_width,
                                   is_training=is_training, **kwargs)

  return preprocessing_fn

"""Raw inputs for the converter-side reliability tests, made in the real formats."""
import io
import os

import numpy as np
from PIL import Image

CLASSES = ('daisy', 'dandelion', 'roses', 'sunflowers', 'tulips')


def noise_jpeg(rng, width, height, mode='RGB', quality=90):
  """JPEG bytes of random pixels (compresses badly: small images, real sizes)."""
  pixels = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
  out = io.BytesIO()
  Image.fromarray(pixels).convert(mode).save(out, format='JPEG', quality=quality)
  return out.getvalue()


def write_photos(root, num_images, *, seed=0, min_size=32, max_size=64):
  """A flowers-like tree: `num_images` RGB JPEGs of min-max px, dealt into 5 class folders."""
  rng = np.random.default_rng(seed)
  for i in range(num_images):
    folder = os.path.join(str(root), CLASSES[i % len(CLASSES)])
    os.makedirs(folder, exist_ok=True)
    width, height = (int(v) for v in rng.integers(min_size, max_size + 1, 2))
    with open(os.path.join(folder, f'img_{i:03d}.jpg'), 'wb') as f:
      f.write(noise_jpeg(rng, width, height))
  return str(root)


def read_tree(root):
  """`{relative path: bytes}` of every file under `root`, hidden ones included."""
  out = {}
  for folder, _, files in os.walk(root):
    for name in files:
      path = os.path.join(folder, name)
      with open(path, 'rb') as f:
        out[os.path.relpath(path, root)] = f.read()
  return out

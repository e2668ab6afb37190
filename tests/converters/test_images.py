"""Image bytes: format from content, size from the header, re-encodes that keep the pixels."""
import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from converters import images
from tests.converters import image_fixtures as fx


def _all_formats():
  rgb = fx.pixels(1, 50, 30)
  return {
      'jpeg': fx.encode(rgb, 'JPEG'),
      'progressive': fx.encode(rgb, 'JPEG', progressive=True),
      'png': fx.encode(rgb, 'PNG'),
      'gif': fx.encode(rgb, 'GIF'),
      'bmp': fx.encode(rgb, 'BMP'),
      'webp': fx.encode(rgb, 'WEBP', lossless=True),
  }


@pytest.mark.parametrize('name', ['jpeg', 'progressive', 'png', 'gif', 'bmp', 'webp'])
def test_format_and_size_come_from_the_content_and_agree_with_pil(name):
  data = _all_formats()[name]
  header = images.read_header(data)
  with Image.open(io.BytesIO(data)) as im:
    assert (header.width, header.height) == im.size == (50, 30)
    assert header.format == im.format.lower()


def test_jpeg_header_parser_reads_channels_of_every_mode():
  assert images.read_header(fx.jpeg(0, mode='L')).channels == 1
  assert images.read_header(fx.jpeg(0)).channels == 3
  assert images.read_header(fx.jpeg(0, mode='CMYK')).channels == 4


def test_a_kept_jpeg_is_the_same_bytes():
  data = fx.jpeg(3, 64, 48)
  out = images.prepare(data, target=images.RGB_JPEG)
  assert out.data == data and out.reencoded == ''
  assert (out.format, out.height, out.width) == ('jpeg', 48, 64)


@pytest.mark.parametrize('make, why', [
    (lambda: fx.png(4), 'PNG content'),
    (lambda: fx.jpeg(4, mode='CMYK'), 'CMYK JPEG'),
    (lambda: fx.jpeg(4, mode='L'), 'grayscale JPEG'),
])
def test_rgb_jpeg_target_reencodes_what_is_not_an_rgb_jpeg(make, why):
  data = make()
  out = images.prepare(data, target=images.RGB_JPEG)
  assert why in out.reencoded
  assert images.sniff(out.data) == 'jpeg' and images.read_header(out.data).channels == 3
  got = fx.tf_decode(out.data)
  want = fx.pil_rgb(data)
  assert got.shape == want.shape == (40, 48, 3)
  # JPEG at quality 95: a small mean difference, no large one.
  diff = np.abs(got.astype(int) - want.astype(int))
  assert diff.mean() < 4 and np.percentile(diff, 99) < 20


def test_jpeg_or_png_target_keeps_png_and_makes_gif_bmp_webp_lossless_png():
  formats = _all_formats()
  png = images.prepare(formats['png'], target=images.JPEG_OR_PNG)
  assert png.data == formats['png'] and png.format == 'png'
  gray = fx.jpeg(2, mode='L')
  assert images.prepare(gray, target=images.JPEG_OR_PNG).data == gray
  for name in ('gif', 'bmp', 'webp'):
    out = images.prepare(formats[name], target=images.JPEG_OR_PNG)
    assert out.format == 'png' and images.sniff(out.data) == 'png', name
    np.testing.assert_array_equal(fx.tf_decode(out.data), fx.pil_rgb(formats[name]))


def test_cmyk_jpeg_in_a_folder_dataset_becomes_an_rgb_jpeg():
  out = images.prepare(fx.jpeg(5, mode='CMYK'), target=images.JPEG_OR_PNG)
  assert out.format == 'jpeg' and images.read_header(out.data).channels == 3


def _bad_cases():
  jpeg = fx.jpeg(7, 64, 64)
  png = fx.png(7)
  return {
      'empty': (b'', 'empty file'),
      'text': (b'hello, not an image', 'not a JPEG, PNG'),
      'truncated jpeg': (jpeg[:len(jpeg) // 2], 'truncated JPEG'),
      'jpeg header only': (jpeg[:200], 'truncated JPEG'),
      'truncated png': (png[:len(png) - 20], 'truncated PNG'),
  }


@pytest.mark.parametrize('case', sorted(_bad_cases()))
def test_bad_images_raise_bad_image_without_a_decode(case):
  data, message = _bad_cases()[case]
  with pytest.raises(images.BadImage, match=message):
    images.prepare(data, target=images.JPEG_OR_PNG)


def _png_claiming(width, height):
  """A PNG whose header claims `width` x `height` 1-bit pixels (its data is tiny)."""
  def chunk(kind, body):
    return (struct.pack('>I', len(body)) + kind + body
            + struct.pack('>I', zlib.crc32(kind + body) & 0xFFFFFFFF))
  row = b'\x00' + b'\x00' * ((width + 7) // 8)
  return (b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', width, height, 1, 0, 0,
                                                            0, 0))
          + chunk(b'IDAT', zlib.compress(row * 4)) + chunk(b'IEND', b''))


def test_images_over_the_decompression_bomb_limit_are_bad():
  data = _png_claiming(20000, 10000)
  assert 20000 * 10000 > Image.MAX_IMAGE_PIXELS
  with pytest.raises(images.BadImage, match='decompression-bomb'):
    images.prepare(data, target=images.JPEG_OR_PNG)
  with pytest.raises(images.BadImage, match='decompression-bomb'):
    images.prepare(fx.jpeg(1, 64, 64), max_pixels=64 * 63)


def _without_segment(data, marker):
  """JPEG bytes with every segment of type `marker` before the scan removed."""
  out, i = bytearray(data[:2]), 2
  while data[i + 1] != 0xDA:
    length = struct.unpack_from('>H', data, i + 2)[0]
    if data[i + 1] != marker:
      out += data[i:i + 2 + length]
    i += 2 + length
  return bytes(out + data[i:])


def test_an_undecodable_jpeg_with_intact_framing_needs_the_decode_check():
  # No quantization table: the framing is intact, yet neither PIL nor TF decodes it.
  damaged = _without_segment(fx.jpeg(9, 64, 64), 0xDB)
  assert images.prepare(damaged, target=images.RGB_JPEG).width == 64
  with pytest.raises(images.BadImage, match='cannot decode'):
    images.prepare(damaged, target=images.RGB_JPEG, check=images.DECODE)


def test_invalid_target_or_check_is_a_value_error():
  with pytest.raises(ValueError, match='target'):
    images.validate(target='gif')
  with pytest.raises(ValueError, match='check_images'):
    images.validate(check='full')

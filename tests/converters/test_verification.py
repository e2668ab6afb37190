"""converters.verification: what check_record and verify_shard find in records and shard files."""
import hashlib
import io

import numpy as np
import pytest
from PIL import Image

from descriptors import manifest as manifest_lib
from descriptors import schema
from converters import verification


def encoded(pixels, image_format):
  buffer = io.BytesIO()
  Image.fromarray(pixels).save(buffer, format=image_format)
  return buffer.getvalue()


PIXELS = np.arange(8 * 6 * 3, dtype=np.uint8).reshape(8, 6, 3)


def record(image_bytes, image_format=b'png', label=1, height=8, width=6):
  return schema.IMAGE.encode_example({
      schema.ENCODED: image_bytes, schema.FORMAT: image_format, schema.LABEL: label,
      schema.HEIGHT: height, schema.WIDTH: width})


@pytest.mark.parametrize('pil_format, name', [
    ('PNG', 'png'), ('JPEG', 'jpeg'), ('GIF', 'gif'), ('BMP', 'bmp')])
def test_sniff_format_knows_the_stored_formats(pil_format, name):
  assert verification.sniff_format(encoded(PIXELS, pil_format)) == name
  assert verification.sniff_format(b'\x00\x01 nothing known') is None


def test_a_sound_record_has_no_problems():
  assert verification.check_record(record(encoded(PIXELS, 'PNG')), label_range=(0, 2),
                                   image_format='png') == []
  assert verification.check_record(record(encoded(PIXELS, 'JPEG'), b'jpg'), label_range=(0, 2),
                                   image_format='jpeg') == []


def test_record_problems_are_each_named():
  jpeg = encoded(PIXELS, 'JPEG')
  assert verification.check_record(record(jpeg, b'png')) == [
      "image/format is 'png' but the bytes are jpeg"]
  assert verification.check_record(record(encoded(PIXELS, 'PNG')), image_format='jpeg') == [
      "image/format is 'png', the manifest says 'jpeg'"]
  assert verification.check_record(record(encoded(PIXELS, 'PNG'), width=7)) == [
      'image/width is 7 but the image is 6 wide']
  assert verification.check_record(b'\xff\xff\xff') [0].startswith('not a tf.train.Example')
  no_image = schema.IMAGE.encode_example({schema.LABEL: 0})
  assert verification.check_record(no_image) == ['no image (image/encoded missing or empty)']


def test_raw_pixels_must_fill_height_by_width():
  assert verification.check_record(record(PIXELS.tobytes(), b'raw')) == []
  assert verification.check_record(record(PIXELS[..., 0].tobytes(), b'raw')) == []
  message, = verification.check_record(record(PIXELS.tobytes()[:-1], b'raw'))
  assert message.startswith('raw image of 143 bytes does not fill 8x6 pixels')


def write_shard(path, records):
  import tensorflow as tf
  with tf.io.TFRecordWriter(str(path)) as writer:
    for r in records:
      writer.write(r)
  data = path.read_bytes()
  return manifest_lib.Shard(file=path.name, num_examples=len(records),
                            sha256=hashlib.sha256(data).hexdigest(), bytes=len(data))


def test_truncated_shard_names_the_record_it_ends_in(tmp_path):
  path = tmp_path / 'toy_train.tfrecord'
  shard = write_shard(path, [record(encoded(PIXELS, 'PNG'))] * 3)
  path.write_bytes(path.read_bytes()[:-5])
  result = verification.verify_shard(str(path), split='train', expected=shard)
  assert (result.actual_count, result.crc_ok, result.sha256_ok, result.bad_records) == (
      2, False, False, 1)
  assert str(result.problems[0]).startswith('toy_train.tfrecord:2: file ends inside')
  # The count past the break is unknown, so no count mismatch is claimed; the sha256 differs.
  assert [str(p).split(' ')[1] for p in result.problems[1:]] == ['sha256', 'is']


def test_problems_listed_per_shard_are_capped_but_all_counted(tmp_path):
  path = tmp_path / 'toy_train.tfrecord'
  shard = write_shard(path, [record(b'not an image')] * 7)
  result = verification.verify_shard(str(path), split='train', expected=shard, max_problems=3)
  assert result.bad_records == 7 and result.sha256_ok and result.crc_ok
  assert [p.record for p in result.problems] == [0, 1, 2, None]
  assert str(result.problems[-1]) == 'toy_train.tfrecord: 4 more bad records not shown'

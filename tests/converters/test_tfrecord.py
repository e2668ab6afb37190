"""converters.tfrecord writes what TensorFlow reads, and reads back only intact files."""
import hashlib
import io

import pytest
import tensorflow as tf

from converters import errors
from converters import tfrecord

RECORDS = [b'', b'a', b'hello world' * 50, bytes(range(256)) * 40]


def _write(path, records):
  with open(path, 'wb') as f:
    writer = tfrecord.TFRecordWriter(f)
    for r in records:
      writer.write(r)
  return writer


def test_tensorflow_reads_what_the_writer_wrote(tmp_path):
  path = str(tmp_path / 'a.tfrecord')
  _write(path, RECORDS)
  assert [r.numpy() for r in tf.data.TFRecordDataset(path)] == RECORDS


def test_reader_reads_what_tensorflow_wrote_byte_for_byte(tmp_path):
  ours, theirs = str(tmp_path / 'ours'), str(tmp_path / 'theirs')
  writer = _write(ours, RECORDS)
  with tf.io.TFRecordWriter(theirs) as w:
    for r in RECORDS:
      w.write(r)
  data = open(theirs, 'rb').read()
  assert open(ours, 'rb').read() == data
  assert writer.hexdigest() == hashlib.sha256(data).hexdigest()
  assert (writer.num_records, writer.num_bytes) == (len(RECORDS), len(data))
  digest = hashlib.sha256()
  assert list(tfrecord.read_records(io.BytesIO(data), digest=digest)) == RECORDS
  assert digest.hexdigest() == hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize('offset, what', [(3, 'length checksum'), (14, 'data checksum'),
                                          (9, 'length checksum')])
def test_reader_detects_a_flipped_byte(tmp_path, offset, what):
  data = bytearray(tfrecord.frame(b'first record') + tfrecord.frame(b'second'))
  # Corrupt the second record, so the error must point at its offset.
  start = len(tfrecord.frame(b'first record'))
  data[start + offset] ^= 0x01
  with pytest.raises(errors.CorruptRecordError, match=f'x.tfrecord.*{what}.*byte {start}'):
    list(tfrecord.read_records(io.BytesIO(bytes(data)), path='x.tfrecord'))


def test_reader_detects_truncation(tmp_path):
  data = tfrecord.frame(b'complete') + tfrecord.frame(b'cut short')
  for cut in (1, 5, 13):
    with pytest.raises(errors.CorruptRecordError, match='y.tfrecord.*truncated'):
      list(tfrecord.read_records(io.BytesIO(data[:-cut]), path='y.tfrecord'))


def test_masked_crc_uses_crc32c_rotated_and_offset():
  # 0xE3069283 is CRC-32C's published check value, the CRC of b'123456789'.
  crc = 0xE3069283
  assert tfrecord.masked_crc32c(b'123456789') == (((crc >> 15) | (crc << 17)) + 0xA282EAD8) % 2**32

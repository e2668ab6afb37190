"""TFRecord files in pure Python: a writer and a verifying reader, no TensorFlow import.

    with FileSystems.create(path) as f:
      tfrecord.TFRecordWriter(f).write(record)
    records = list(tfrecord.read_records(FileSystems.open(path), path=path))

Each record is framed as TensorFlow writes it: the length (uint64, little endian),
the masked CRC-32C of the length, the data, the masked CRC-32C of the data.
Beam workers import this instead of TensorFlow, so they start in a fraction of
the time.
"""
import hashlib
import struct

import google_crc32c

from converters import errors

_MASK_DELTA = 0xA282EAD8
_HEADER = 12   # length (8) + masked crc of length (4)
_FOOTER = 4


def masked_crc32c(data):
  """TFRecord's masked CRC-32C of `data` (rotated and offset, as TensorFlow masks it)."""
  crc = google_crc32c.value(bytes(data))
  return (((crc >> 15) | (crc << 17)) + _MASK_DELTA) & 0xFFFFFFFF


def frame(record):
  """The bytes of one framed record."""
  length = struct.pack('<Q', len(record))
  return b''.join((length, struct.pack('<I', masked_crc32c(length)), record,
                   struct.pack('<I', masked_crc32c(record))))


class TFRecordWriter:
  """Writes framed records to an open binary file; tracks count, bytes and sha256.

  The caller owns the file: open it, write, close it.
  """

  def __init__(self, fileobj):
    self._file = fileobj
    self._sha256 = hashlib.sha256()
    self.num_records = 0
    self.num_bytes = 0

  def write(self, record):
    data = frame(record)
    self._file.write(data)
    self._sha256.update(data)
    self.num_records += 1
    self.num_bytes += len(data)

  def hexdigest(self):
    """sha256 of everything written so far."""
    return self._sha256.hexdigest()


def _read_exact(fileobj, n, path, offset, what):
  data = fileobj.read(n)
  # Some file objects (gcsio) may return short reads before the end.
  while len(data) < n:
    more = fileobj.read(n - len(data))
    if not more:
      break
    data += more
  if len(data) != n:
    raise errors.CorruptRecordError(
        f'{path}: file ends inside the {what} of the record at byte {offset} '
        f'(wanted {n} bytes, got {len(data)}); the file is truncated: delete it and convert again')
  return data


def read_records(fileobj, *, path='<file>', verify=True, digest=None):
  """Yields the records of an open TFRecord file, checking both CRCs of each.

  Args:
    fileobj: an open binary file positioned at the start.
    path: the file's name, for error messages.
    verify: check the CRCs (the length is always checked).
    digest: an optional `hashlib` object fed every byte read, so a caller can
      check a file's sha256 in the same pass.

  Raises:
    CorruptRecordError: naming the file and the byte offset of the bad record.
  """
  offset = 0
  while True:
    header = fileobj.read(_HEADER)
    if not header:
      return
    if len(header) < _HEADER:
      header += _read_exact(fileobj, _HEADER - len(header), path, offset, 'header')
    length_bytes = header[:8]
    (length,) = struct.unpack('<Q', length_bytes)
    (length_crc,) = struct.unpack('<I', header[8:])
    if verify and masked_crc32c(length_bytes) != length_crc:
      raise errors.CorruptRecordError(
          f'{path}: bad length checksum in the record at byte {offset}; the file is corrupt: '
          'delete it and convert again')
    data = _read_exact(fileobj, length, path, offset, 'data')
    footer = _read_exact(fileobj, _FOOTER, path, offset, 'data checksum')
    if verify and masked_crc32c(data) != struct.unpack('<I', footer)[0]:
      raise errors.CorruptRecordError(
          f'{path}: bad data checksum in the record at byte {offset}; the file is corrupt: '
          'delete it and convert again')
    if digest is not None:
      digest.update(header)
      digest.update(data)
      digest.update(footer)
    offset += _HEADER + length + _FOOTER
    yield data

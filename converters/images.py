"""Image bytes as a dataset promises them: content sniffing, size from the header, re-encoding.

    image = images.prepare(data, target=images.RGB_JPEG)    # raises images.BadImage
    image.data, image.format, image.height, image.width      # the kept bytes, or a re-encode

What is checked, and what it costs (a 500x375, 60 KB JPEG on the reference
machine: PIL's full decode ~8 ms, a 1/8-scale draft decode ~7.5 ms (the
entropy decoding is the cost), `PIL.Image.open` ~130 us, the parser here ~6 us):

- `check='structure'` (the default): the format is sniffed from the magic
  bytes, never from the file name; height, width and channels come from the
  header (JPEG: the SOF segment, walking every marker segment before the scan;
  PNG: IHDR; GIF, BMP, WebP: `PIL.Image.open`, which reads only the header);
  a JPEG must have its end-of-image marker after the first scan and a PNG its
  IDAT and IEND chunks. That catches empty, truncated and non-image files and
  sizes over PIL's decompression-bomb limit (`Image.MAX_IMAGE_PIXELS`), with no
  decode. It cannot see a file whose framing is intact but whose content is
  unusable (say, a JPEG without its quantization table): only a decode can.
- `check='decode'`: every kept image is also fully decoded by PIL (about 1,000x
  the cost of the structure check), so nothing PIL cannot decode gets through.
  libjpeg (PIL's and TensorFlow's) tolerates damaged compressed data inside a
  scan: it warns and fills the rest with gray, and both still decode it.
- Re-encoded images are always fully decoded, so they are always checked.

Targets (what a dataset stores):
- `RGB_JPEG` (flowers, ImageNet): an 8-bit baseline or progressive 3-channel
  JPEG is kept byte for byte; anything else (a PNG named .JPEG, a CMYK or
  grayscale JPEG, GIF, BMP, WebP) is decoded by PIL, converted to RGB and
  re-encoded as JPEG at quality `JPEG_QUALITY` without chroma subsampling.
- `JPEG_OR_PNG` (folder datasets): JPEG (1 or 3 channels) and PNG are kept
  byte for byte (TensorFlow decodes every PNG variant); a CMYK or otherwise
  unusual JPEG becomes an RGB JPEG; GIF (first frame), BMP and WebP become RGB
  PNG, losslessly. Alpha channels are dropped by the RGB conversion.
EXIF orientation is not applied, as TensorFlow's decoders do not apply it.
"""
import dataclasses
import io
import struct

from PIL import Image

JPEG = 'jpeg'
PNG = 'png'
GIF = 'gif'
BMP = 'bmp'
WEBP = 'webp'
FORMATS = (JPEG, PNG, GIF, BMP, WEBP)
# File name extensions that mark a file as a candidate image (its content decides the format).
EXTENSIONS = ('.jpg', '.jpeg', '.png', '.gif', '.bmp', '.webp')

RGB_JPEG = 'rgb_jpeg'
JPEG_OR_PNG = 'jpeg_or_png'
TARGETS = (RGB_JPEG, JPEG_OR_PNG)

STRUCTURE = 'structure'
DECODE = 'decode'
CHECKS = (STRUCTURE, DECODE)

JPEG_QUALITY = 95
_PNG_SIGNATURE = b'\x89PNG\r\n\x1a\n'
# SOF markers TensorFlow and PIL decode: baseline, extended sequential, progressive (Huffman).
_PLAIN_SOF = (0xC0, 0xC1, 0xC2)
_ALL_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
_STANDALONE = frozenset(range(0xD0, 0xD8)) | {0x01}
_PNG_CHANNELS = {0: 1, 2: 3, 3: 3, 4: 2, 6: 4}


class BadImage(ValueError):
  """The bytes are not a usable image; the message says why (the caller names the file)."""


@dataclasses.dataclass(frozen=True)
class Header:
  """What an image's header says, read without decoding it."""
  format: str
  width: int
  height: int
  channels: int
  plain: bool = True    # JPEG: 8-bit Huffman-coded (TensorFlow decodes it); others: True


@dataclasses.dataclass(frozen=True)
class Prepared:
  """Image bytes ready to store, and why they were re-encoded ('' when kept as they came)."""
  data: bytes
  format: str
  height: int
  width: int
  channels: int
  reencoded: str = ''


def add_flags(parser):
  """Adds `--check_images` to a source's argparse parser."""
  parser.add_argument(
      '--check_images', choices=CHECKS, default=STRUCTURE,
      help="'structure': header, size and end markers, no decode (fast; misses corrupt data "
           "inside an intact file); 'decode': also decode every kept image with PIL")


def validate(*, target=RGB_JPEG, check=STRUCTURE):
  """Raises ValueError for an unknown target or check (call it in a source's __init__)."""
  if target not in TARGETS:
    raise ValueError(f'image target must be one of {TARGETS}, got {target!r}')
  if check not in CHECKS:
    raise ValueError(f'check_images must be one of {CHECKS}, got {check!r}')


def sniff(data):
  """The format named by the magic bytes at the start of `data`, or None."""
  if data[:3] == b'\xff\xd8\xff':
    return JPEG
  if data[:8] == _PNG_SIGNATURE:
    return PNG
  if data[:6] in (b'GIF87a', b'GIF89a'):
    return GIF
  if data[:2] == b'BM':
    return BMP
  if data[:4] == b'RIFF' and data[8:12] == b'WEBP':
    return WEBP
  return None


def _jpeg_header(data):
  """Walks the marker segments up to the first scan: (Header, offset of the scan)."""
  i, n = 2, len(data)
  sof = None
  while True:
    if i + 2 > n:
      raise BadImage('truncated JPEG: the file ends before the image data')
    if data[i] != 0xFF:
      raise BadImage(f'corrupt JPEG: no marker at byte {i}')
    marker = data[i + 1]
    if marker == 0xFF:          # fill byte
      i += 1
      continue
    if marker in _STANDALONE:
      i += 2
      continue
    if marker == 0xD9:
      raise BadImage('corrupt JPEG: end of image before any image data')
    if i + 4 > n:
      raise BadImage('truncated JPEG: the file ends inside a marker segment')
    (length,) = struct.unpack_from('>H', data, i + 2)
    if length < 2 or i + 2 + length > n:
      raise BadImage(f'truncated JPEG: the segment at byte {i} runs past the end of the file')
    if marker in _ALL_SOF:
      if length < 8:
        raise BadImage('corrupt JPEG: frame header too short')
      precision, height, width, channels = struct.unpack_from('>BHHB', data, i + 4)
      sof = Header(JPEG, width, height, channels,
                   plain=marker in _PLAIN_SOF and precision == 8 and channels in (1, 3, 4))
    elif marker == 0xDA:
      if sof is None:
        raise BadImage('corrupt JPEG: image data before the frame header')
      return sof, i
    i += 2 + length


def _png_header(data):
  if len(data) < 33 or data[12:16] != b'IHDR':
    raise BadImage('truncated PNG: no complete IHDR chunk')
  width, height, _, color_type = struct.unpack_from('>IIBB', data, 16)
  if color_type not in _PNG_CHANNELS:
    raise BadImage(f'corrupt PNG: unknown color type {color_type}')
  return Header(PNG, width, height, _PNG_CHANNELS[color_type])


def _pil_header(data, fmt):
  try:
    with Image.open(io.BytesIO(data)) as im:
      width, height = im.size
      channels = len(im.getbands())
  except Image.DecompressionBombError as e:
    raise BadImage(f"over PIL's decompression-bomb limit: {e}") from None
  except (OSError, SyntaxError, ValueError, EOFError, struct.error) as e:
    raise BadImage(f'cannot read the {fmt.upper()} header: {e}') from None
  return Header(fmt, width, height, channels)


def read_header(data):
  """The `Header` of image bytes, from the header alone; raises BadImage.

  With the structure checks: a JPEG needs an end-of-image marker after its
  first scan (entropy-coded data cannot hold one), a PNG its IDAT and IEND.
  """
  if not data:
    raise BadImage('empty file')
  fmt = sniff(data)
  if fmt is None:
    raise BadImage(f'not a JPEG, PNG, GIF, BMP or WebP image (starts with {bytes(data[:8])!r})')
  if fmt == JPEG:
    header, scan = _jpeg_header(data)
    if data.rfind(b'\xff\xd9', scan) < 0:
      raise BadImage('truncated JPEG: no end-of-image marker after the image data')
  elif fmt == PNG:
    header = _png_header(data)
    if data.find(b'IDAT', 33) < 0 or data.rfind(b'IEND') < 33:
      raise BadImage('truncated PNG: no IDAT or IEND chunk')
  else:
    header = _pil_header(data, fmt)
  if header.width < 1 or header.height < 1:
    raise BadImage(f'the header gives an empty size ({header.width}x{header.height})')
  return header


def decode(data):
  """A fully decoded PIL image (first frame); raises BadImage if it cannot be decoded."""
  try:
    im = Image.open(io.BytesIO(data))
    im.load()
    return im
  except Image.DecompressionBombError as e:
    raise BadImage(f"over PIL's decompression-bomb limit: {e}") from None
  except (OSError, SyntaxError, ValueError, EOFError, struct.error) as e:
    raise BadImage(f'cannot decode: {e}') from None


def encode(im, fmt):
  """RGB `fmt` ('jpeg' or 'png') bytes of a PIL image; deterministic for equal pixels."""
  out = io.BytesIO()
  rgb = im.convert('RGB')
  if fmt == JPEG:
    rgb.save(out, format='JPEG', quality=JPEG_QUALITY, subsampling=0)   # 4:4:4: keep chroma
  else:
    rgb.save(out, format='PNG')
  return out.getvalue()


def _keep(header, target):
  if header.format == JPEG:
    ok_channels = (3,) if target == RGB_JPEG else (1, 3)
    return header.plain and header.channels in ok_channels
  return target == JPEG_OR_PNG and header.format == PNG


def _why(header):
  if header.format != JPEG:
    return f'{header.format.upper()} content'
  if not header.plain:
    return 'a JPEG coding TensorFlow cannot decode'
  return {1: 'grayscale JPEG', 4: 'CMYK JPEG'}.get(header.channels,
                                                   f'{header.channels}-channel JPEG')


def prepare(data, *, target=RGB_JPEG, check=STRUCTURE, max_pixels=None):
  """Image bytes as `target` promises them, with their size; raises BadImage.

  Args:
    data: the file's bytes.
    target: `RGB_JPEG` or `JPEG_OR_PNG` (see the module docstring).
    check: `STRUCTURE` or `DECODE`.
    max_pixels: the largest width * height accepted; default PIL's
      decompression-bomb limit, `PIL.Image.MAX_IMAGE_PIXELS`.
  """
  data = bytes(data)
  header = read_header(data)
  limit = Image.MAX_IMAGE_PIXELS if max_pixels is None else max_pixels
  if limit and header.width * header.height > limit:
    raise BadImage(f"{header.width}x{header.height} pixels is over PIL's decompression-bomb "
                   f'limit of {limit} pixels')
  if _keep(header, target):
    if check == DECODE:
      decode(data)
    return Prepared(data, header.format, header.height, header.width, header.channels)
  im = decode(data)
  fmt = JPEG if target == RGB_JPEG or header.format == JPEG else PNG
  encoded = encode(im, fmt)
  return Prepared(encoded, fmt, im.height, im.width, 3,
                  reencoded=f'{_why(header)} re-encoded as RGB {fmt.upper()}')

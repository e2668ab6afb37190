"""Resumable, verified, cached downloads (urllib only).

    path = download.fetch('https://storage.googleapis.com/cvdf-datasets/mnist/'
                          't10k-labels-idx1-ubyte.gz', directory='/tmp/cache',
                          sha256='f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6')

A download goes to `<name>.part` beside its final name; an interrupted one is
resumed with an HTTP Range request. The finished file is checked against its
known sha256 before it gets its final name: a mismatch removes it and raises.
A file already in the cache is reused when its checksum matches. Downloads go
to a local folder; for gs:// runs, convert locally once or copy the raw files.
"""
import hashlib
import http.client
import logging
import os
import urllib.error
import urllib.request

from converters import errors

_CHUNK = 1 << 20


def sha256_of(path, chunk_size=_CHUNK):
  """Hex sha256 of a local file."""
  digest = hashlib.sha256()
  with open(path, 'rb') as f:
    for block in iter(lambda: f.read(chunk_size), b''):
      digest.update(block)
  return digest.hexdigest()


def _remove(path):
  try:
    os.remove(path)
  except FileNotFoundError:
    pass


def _open(url, offset, timeout):
  request = urllib.request.Request(url, headers={'User-Agent': 'slimdata'})
  if offset:
    request.add_header('Range', f'bytes={offset}-')
  return urllib.request.urlopen(request, timeout=timeout)  # pylint: disable=consider-using-with


def download(url, path, *, sha256=None, timeout=60, chunk_size=_CHUNK):
  """Downloads `url` to the local `path`, resuming `<path>.part` if one exists.

  Args:
    url: http(s) URL.
    path: final local file name; its folder is created.
    sha256: the known hex digest, or None to accept any content.
    timeout: seconds to wait on the connection.

  Returns:
    The hex sha256 of the file.

  Raises:
    DownloadError: on a network error (the partial file is kept for a resume)
      or a checksum mismatch (the file is removed).
  """
  os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
  part = path + '.part'
  offset = os.path.getsize(part) if os.path.exists(part) else 0
  try:
    try:
      response = _open(url, offset, timeout)
    except urllib.error.HTTPError as e:
      if e.code != 416 or not offset:
        raise
      # 416: the partial file is no prefix the server can continue; start over.
      _remove(part)
      offset = 0
      response = _open(url, 0, timeout)
    with response:
      if offset and response.status != 206:
        logging.info('%s: the server ignored the Range request; downloading from the start', url)
        offset = 0
      elif offset:
        logging.info('%s: resuming at byte %d', url, offset)
      announced = response.headers.get('Content-Length')
      received = 0
      with open(part, 'ab' if offset else 'wb') as f:
        for block in iter(lambda: response.read(chunk_size), b''):
          f.write(block)
          received += len(block)
  except (urllib.error.URLError, OSError, http.client.HTTPException) as e:
    # HTTPException: a malformed status line or chunk from the server.
    raise errors.DownloadError(
        f'downloading {url} to {path} failed: {str(e).strip() or type(e).__name__}; run again '
        'to resume, or pass another '
        '--base_url') from None
  # http.client ends a read quietly when the server closes the connection early.
  if announced is not None and announced.isdigit() and received < int(announced):
    raise errors.DownloadError(
        f'downloading {url} to {path} failed: the server sent {received} of the {announced} '
        'bytes it announced, then closed the connection; run again to resume')

  digest = sha256_of(part)
  if sha256 is not None and digest != sha256.lower():
    _remove(part)
    raise errors.DownloadError(
        f'{url}: downloaded file has sha256 {digest}, expected {sha256}; it was removed. '
        'The mirror may serve a different file: try another --base_url')
  os.replace(part, path)
  return digest


def fetch(url, *, directory, sha256=None, filename=None, timeout=60):
  """The local path of `url`'s file in the cache `directory`, downloading it if needed.

  A cached file whose checksum does not match `sha256` is removed and
  downloaded again.
  """
  filename = filename or url.rstrip('/').rsplit('/', 1)[-1]
  path = os.path.join(directory, filename)
  if os.path.exists(path):
    if sha256 is None or sha256_of(path) == sha256.lower():
      return path
    logging.warning('%s: cached file does not match its known sha256; downloading it again',
                    path)
    _remove(path)
  logging.info('downloading %s', url)
  download(url, path, sha256=sha256, timeout=timeout)
  return path

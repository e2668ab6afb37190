"""Downloads resume with HTTP Range and never keep a file whose checksum is wrong."""
import hashlib
import http.server
import os
import threading

import pytest

from converters import download
from converters import errors

PAYLOAD = bytes(range(256)) * 4000   # ~1 MB


class _Server:
  """A local HTTP server for one payload that honours `Range: bytes=N-` and logs requests."""

  def __init__(self, payload, honour_range=True):
    self.requests = []   # (Range header or None, status, bytes sent)
    server = self

    class Handler(http.server.BaseHTTPRequestHandler):
      def do_GET(self):  # pylint: disable=invalid-name
        start = 0
        header = self.headers.get('Range')
        if header and honour_range:
          start = int(header.removeprefix('bytes=').rstrip('-'))
        body = payload[start:]
        status = 206 if start else 200
        # Logged before replying: the client may check the log as soon as it has the body.
        server.requests.append((header, status, len(body)))
        self.send_response(status)
        self.send_header('Content-Length', str(len(body)))
        if status == 206:
          self.send_header('Content-Range', f'bytes {start}-{len(payload) - 1}/{len(payload)}')
        self.end_headers()
        self.wfile.write(body)

      def log_message(self, *args):
        pass

    self.httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
    self.url = f'http://127.0.0.1:{self.httpd.server_port}/data.bin'
    threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

  def close(self):
    self.httpd.shutdown()
    self.httpd.server_close()


@pytest.fixture
def server():
  s = _Server(PAYLOAD)
  yield s
  s.close()


SHA = hashlib.sha256(PAYLOAD).hexdigest()


def test_resumes_a_partial_download_with_range(server, tmp_path):
  path = str(tmp_path / 'data.bin')
  open(path + '.part', 'wb').write(PAYLOAD[:300000])
  assert download.download(server.url, path, sha256=SHA) == SHA
  assert server.requests == [('bytes=300000-', 206, len(PAYLOAD) - 300000)]
  assert open(path, 'rb').read() == PAYLOAD
  assert not os.path.exists(path + '.part')


def test_server_that_ignores_range_restarts_from_zero(tmp_path):
  s = _Server(PAYLOAD, honour_range=False)
  try:
    path = str(tmp_path / 'data.bin')
    open(path + '.part', 'wb').write(PAYLOAD[:1000])
    download.download(s.url, path, sha256=SHA)
    assert s.requests == [('bytes=1000-', 200, len(PAYLOAD))]
    assert open(path, 'rb').read() == PAYLOAD
  finally:
    s.close()


def test_checksum_mismatch_removes_the_file_and_raises(server, tmp_path):
  path = str(tmp_path / 'data.bin')
  with pytest.raises(errors.DownloadError, match='data.bin.*sha256') as info:
    download.download(server.url, path, sha256='0' * 64)
  assert SHA in str(info.value)
  assert os.listdir(tmp_path) == []


def test_fetch_uses_the_cache_and_replaces_a_bad_cached_file(server, tmp_path):
  cache = str(tmp_path / 'cache')
  path = download.fetch(server.url, directory=cache, sha256=SHA)
  assert path == os.path.join(cache, 'data.bin') and len(server.requests) == 1
  assert download.fetch(server.url, directory=cache, sha256=SHA) == path
  assert len(server.requests) == 1   # served from the cache
  open(path, 'wb').write(b'tampered')
  download.fetch(server.url, directory=cache, sha256=SHA)
  assert len(server.requests) == 2 and open(path, 'rb').read() == PAYLOAD


def test_network_error_names_the_url(tmp_path):
  with pytest.raises(errors.DownloadError, match='127.0.0.1:9/x.gz'):
    download.download('http://127.0.0.1:9/x.gz', str(tmp_path / 'x.gz'))

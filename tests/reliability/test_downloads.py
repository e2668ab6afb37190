"""Downloads against a misbehaving server: cut short, stalled, corrupt, garbled.

A local `http.server` on 127.0.0.1 (ephemeral port, in a thread) plays the
mirror. tests/converters/test_download.py already proves a resume from an
existing `.part` with `Range`, a server that ignores `Range`, a checksum
mismatch removing the file, and the cache; these add the faults themselves:
the server announces a `Content-Length` and closes the connection early
(http.client returns a short body without raising), then the next run
resumes; a resumed file whose kept prefix is corrupt; a server that stalls;
a server that answers with garbage.
"""
import hashlib
import http.server
import os
import threading

import pytest

from converters import download
from converters import errors

PAYLOAD = bytes(range(256)) * 2000   # 512,000 bytes
SHA = hashlib.sha256(PAYLOAD).hexdigest()
CUT = 200_000


class _Server:
  """Serves PAYLOAD; `faults` is a list of what the next requests do, one entry each."""

  def __init__(self, faults=()):
    self.faults = list(faults)
    self.requests = []   # (Range header, fault)
    self.release = threading.Event()
    server = self

    class Handler(http.server.BaseHTTPRequestHandler):
      def do_GET(self):  # pylint: disable=invalid-name
        fault = server.faults.pop(0) if server.faults else None
        header = self.headers.get('Range')
        server.requests.append((header, fault))
        if fault == 'garbage':
          self.wfile.write(b'this is no HTTP status line\r\n\r\n')
          return
        start = int(header.removeprefix('bytes=').rstrip('-')) if header else 0
        body = PAYLOAD[start:]
        self.send_response(206 if start else 200)
        self.send_header('Content-Length', str(len(body)))
        if start:
          self.send_header('Content-Range', f'bytes {start}-{len(PAYLOAD) - 1}/{len(PAYLOAD)}')
        self.end_headers()
        if fault == 'stall':
          server.release.wait(10)   # bounded: the test sets it when done
          return
        if fault == 'short':
          body = body[:CUT]          # then HTTP/1.0 closes the connection
        self.wfile.write(body)

      def log_message(self, *args):
        pass

    self.httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
    self.httpd.daemon_threads = True
    self.url = f'http://127.0.0.1:{self.httpd.server_port}/data.bin'
    self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,),
                                   daemon=True)
    self.thread.start()

  def close(self):
    self.release.set()
    self.httpd.shutdown()
    self.httpd.server_close()
    self.thread.join(10)


@pytest.fixture
def serve():
  servers = []

  def make(*faults):
    servers.append(_Server(faults))
    return servers[-1]
  yield make
  for s in servers:
    s.close()


def test_body_shorter_than_announced_is_an_error_even_without_a_checksum(serve, tmp_path):
  server = serve('short')
  path = str(tmp_path / 'data.bin')
  with pytest.raises(errors.DownloadError, match=f'{CUT} of the {len(PAYLOAD)} bytes') as info:
    download.download(server.url, path)
  assert server.url in str(info.value) and 'run again to resume' in str(info.value)
  assert not os.path.exists(path)                         # no final name for a short file
  assert os.path.getsize(path + '.part') == CUT           # kept for the resume


def test_interrupted_download_resumes_where_it_stopped(serve, tmp_path):
  server = serve('short')
  cache = str(tmp_path / 'cache')
  with pytest.raises(errors.DownloadError):
    download.fetch(server.url, directory=cache, sha256=SHA)
  path = download.fetch(server.url, directory=cache, sha256=SHA)
  assert server.requests == [(None, 'short'), (f'bytes={CUT}-', None)]
  with open(path, 'rb') as f:
    assert f.read() == PAYLOAD
  assert os.listdir(cache) == ['data.bin']


def test_resume_onto_a_corrupt_prefix_is_rejected_removed_and_then_redone(serve, tmp_path):
  server = serve()
  cache = tmp_path / 'cache'
  cache.mkdir()
  damaged = bytearray(PAYLOAD[:CUT])
  damaged[1234] ^= 0xFF
  (cache / 'data.bin.part').write_bytes(bytes(damaged))
  with pytest.raises(errors.DownloadError, match='sha256') as info:
    download.fetch(server.url, directory=str(cache), sha256=SHA)
  assert server.url in str(info.value) and 'removed' in str(info.value)
  assert os.listdir(cache) == []                          # the bad bytes are gone
  path = download.fetch(server.url, directory=str(cache), sha256=SHA)
  assert server.requests[-1] == (None, None)              # from the start this time
  with open(path, 'rb') as f:
    assert hashlib.sha256(f.read()).hexdigest() == SHA


def test_stalled_server_times_out_naming_the_url(serve, tmp_path):
  server = serve('stall')
  path = str(tmp_path / 'data.bin')
  with pytest.raises(errors.DownloadError, match='timed out') as info:
    download.download(server.url, path, timeout=0.5)
  assert server.url in str(info.value)
  assert not os.path.exists(path)


def test_garbled_response_is_a_download_error_naming_the_url(serve, tmp_path):
  server = serve('garbage')
  with pytest.raises(errors.DownloadError) as info:
    download.download(server.url, str(tmp_path / 'data.bin'))
  assert server.url in str(info.value)

"""A local stand-in for the Hugging Face Hub (the real one is out of reach here): the endpoints huggingface_hub
calls to resolve a revision, list a repository's files with their checksums, and download a file (HEAD, GET,
Range). It can serve a gated repository, cut a download off half-way once, and serve bytes that differ from the
checksum it lists."""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlparse


@dataclass
class FakeRepo:
    files: dict[str, bytes]
    lfs: set[str] = field(default_factory=set)  # paths stored in LFS (listed with their sha256)
    commit: str = "0123456789abcdef0123456789abcdef01234567"
    gated: bool = False
    token: str = "hf_good_token"
    corrupt: set[str] = field(default_factory=set)  # served with one byte changed
    cut_once: set[str] = field(default_factory=set)  # the first GET of these stops half-way


def blob_id(data: bytes) -> str:
    return hashlib.sha1(f"blob {len(data)}\0".encode() + data).hexdigest()


@dataclass
class FakeHub:
    repos: dict[str, FakeRepo]
    requests: list[tuple[str, str, str | None]] = field(default_factory=list)  # method, path, Range
    url: str = ""


@contextmanager
def fake_hub(repos: dict[str, FakeRepo]) -> Iterator[FakeHub]:
    hub = FakeHub(repos)
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def _json(self, status: int, body: object, headers: dict[str, str] | None = None) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

        def _repo(self, repo_id: str) -> FakeRepo | None:
            repo = hub.repos.get(repo_id)
            if repo is None:
                self._json(404, {"error": "Repository not found"}, {"X-Error-Code": "RepoNotFound"})
                return None
            if repo.gated and self.headers.get("Authorization") != f"Bearer {repo.token}":
                self._json(401, {"error": f"Access to model {repo_id} is restricted."}, {"X-Error-Code": "GatedRepo"})
                return None
            return repo

        def _handle(self, head: bool) -> None:
            path = unquote(urlparse(self.path).path)
            with lock:
                hub.requests.append((self.command, path, self.headers.get("Range")))
            if m := re.fullmatch(r"/api/models/(.+?)/revision/([^/]+)", path):
                if (repo := self._repo(m.group(1))) is not None:
                    if m.group(2) not in ("main", repo.commit):
                        self._json(404, {"error": "Revision not found"}, {"X-Error-Code": "RevisionNotFound"})
                        return
                    self._json(200, {"id": m.group(1), "sha": repo.commit, "siblings": []})
                return
            if m := re.fullmatch(r"/api/models/(.+?)/tree/([^/]+)", path):
                if (repo := self._repo(m.group(1))) is not None:
                    listing = []
                    for name, data in repo.files.items():
                        entry: dict[str, object] = {
                            "type": "file",
                            "path": name,
                            "size": len(data),
                            "oid": blob_id(data),
                        }
                        if name in repo.lfs:
                            entry["lfs"] = {
                                "oid": hashlib.sha256(data).hexdigest(),
                                "size": len(data),
                                "pointerSize": 130,
                            }
                        listing.append(entry)
                    self._json(200, listing)
                return
            if m := re.fullmatch(r"/(.+?)/resolve/([^/]+)/(.+)", path):
                if (repo := self._repo(m.group(1))) is None:
                    return
                name = m.group(3)
                if name not in repo.files:
                    self._json(404, {"error": "Entry not found"}, {"X-Error-Code": "EntryNotFound"})
                    return
                data = repo.files[name]
                if name in repo.corrupt:
                    data = bytes([data[0] ^ 0xFF]) + data[1:]
                etag = hashlib.sha256(repo.files[name]).hexdigest() if name in repo.lfs else blob_id(repo.files[name])
                start = 0
                if (rng := self.headers.get("Range")) and (r := re.fullmatch(r"bytes=(\d+)-", rng)):
                    start = int(r.group(1))
                body = data[start:]
                self.send_response(206 if start else 200)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("ETag", f'"{etag}"')
                self.send_header("X-Repo-Commit", repo.commit)
                self.send_header("Accept-Ranges", "bytes")
                if start:
                    self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
                self.end_headers()
                if head:
                    return
                if name in repo.cut_once and not start:
                    repo.cut_once.discard(name)
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                self.wfile.write(body)
                return
            self._json(404, {"error": f"no route {path}"})

        def do_GET(self) -> None:
            self._handle(head=False)

        def do_HEAD(self) -> None:
            self._handle(head=True)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    hub.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield hub
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

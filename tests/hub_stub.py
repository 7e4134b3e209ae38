"""A stand-in for the Hugging Face Hub API on 127.0.0.1 (stdlib only), enough for `create_repo`,
`upload_folder`, `create_tag`, `repo_info` and downloads (`hf_hub_download`, `snapshot_download`) to run
for real against it.

Every file arrives inline ("regular" upload mode), so what a client pushed is kept byte for byte in
`HubStub.repos[(repo_type, repo_id)]`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

REPO_PATH = re.compile(r"^/api/(models|datasets|spaces)/([^/]+/[^/]+)/(preupload|commit|tag|revision|tree)/(.+)$")
FILE_PATH = re.compile(r"^/([^/]+/[^/]+)/resolve/([^/]+)/(.+)$")  # a model repository's file


@dataclass
class StubRepo:
    private: bool = False
    files: dict[str, bytes] = field(default_factory=dict)
    commits: list[str] = field(default_factory=list)
    tags: dict[str, str] = field(default_factory=dict)


class HubStub:
    def __init__(self):
        self.repos: dict[tuple[str, str], StubRepo] = {}
        self.requests: list[tuple[str, str]] = []
        self.created: list[bytes] = []  # the bodies of create-repo requests
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def _handler_class(self):
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output clean
                pass

            def do_GET(self):
                stub.requests.append(("GET", self.path))
                if FILE_PATH.match(self.path.split("?", 1)[0]):
                    self._send_file()
                else:
                    self._dispatch("GET")

            def do_POST(self):
                stub.requests.append(("POST", self.path))
                self._dispatch("POST")

            def do_HEAD(self):
                stub.requests.append(("HEAD", self.path))
                self._send_file(head=True)

            def _send_file(self, head=False):
                found = stub.file(self.path.split("?", 1)[0])
                if found is None:
                    self.send_response(404)
                    self.send_header("X-Error-Code", "EntryNotFound")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                sha, data = found
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("ETag", f'"{hashlib.sha256(data).hexdigest()}"')
                self.send_header("X-Repo-Commit", sha)
                self.end_headers()
                if not head:
                    self.wfile.write(data)

            def _dispatch(self, method):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                path = self.path.split("?", 1)[0]
                try:
                    status, answer = stub.answer(method, path, body)
                except KeyError as missing:
                    status, answer = 404, {"error": f"not found: {missing}"}
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                if status == 404:
                    self.send_header("X-Error-Code", "RepoNotFound")
                self.end_headers()
                self.wfile.write(data)

        return Handler

    def answer(self, method: str, path: str, body: bytes) -> tuple[int, dict | list]:
        if method == "POST" and path == "/api/repos/create":
            self.created.append(body)
            request = json.loads(body)
            repo_id = f"{request['organization']}/{request['name']}" if request.get("organization") else request["name"]
            kind = request.get("type") or "model"
            private = request.get("visibility") == "private" or bool(request.get("private"))
            self.repos.setdefault((kind, repo_id), StubRepo(private=private))
            return 200, {"url": f"{self.url}/{repo_id}", "name": repo_id}
        if method == "POST" and path == "/api/validate-yaml":
            return 200, {"errors": [], "warnings": []}
        match = REPO_PATH.match(path)
        if not match:
            return 404, {"error": f"the stub does not serve {method} {path}"}
        kind, repo_id, action, revision = match.groups()
        repo = self.repos[(kind[:-1], repo_id)]
        if action == "preupload":
            files = json.loads(body)["files"]
            return 200, {"files": [{"path": f["path"], "uploadMode": "regular", "shouldIgnore": False} for f in files]}
        if action == "commit":
            return 200, self._commit(repo, repo_id, body)
        if action == "tag":
            repo.tags[json.loads(body)["tag"]] = repo.commits[-1] if revision == "main" else revision
            return 200, {}
        sha = repo.tags.get(revision) or (repo.commits[-1] if revision == "main" else revision)
        if action == "tree":  # one page, every file (snapshot_download lists them this way)
            return 200, [
                {"type": "file", "path": name, "size": len(data), "oid": hashlib.sha1(data).hexdigest()}
                for name, data in sorted(repo.files.items())
            ]
        siblings = [{"rfilename": name} for name in sorted(repo.files)]
        return 200, {"id": repo_id, "sha": sha, "private": repo.private, "siblings": siblings, "tags": []}

    def file(self, path: str) -> tuple[str, bytes] | None:
        """(commit, bytes) of `/{repo_id}/resolve/{revision}/{name}`, or None."""
        repo_id, revision, name = FILE_PATH.match(path).groups()
        repo = self.repos.get(("model", repo_id))
        if repo is None or name not in repo.files:
            return None
        return repo.tags.get(revision) or (repo.commits[-1] if revision == "main" else revision), repo.files[name]

    @staticmethod
    def _commit(repo: StubRepo, repo_id: str, body: bytes) -> dict:
        for line in body.splitlines():
            item = json.loads(line)
            if item["key"] == "file":
                value = item["value"]
                assert value.get("encoding") == "base64", value.get("encoding")
                repo.files[value["path"]] = base64.b64decode(value["content"])
            elif item["key"] != "header":
                raise ValueError(f"the stub takes only inline files, got {item['key']}")
        oid = hashlib.sha1(body).hexdigest()
        repo.commits.append(oid)
        return {"commitUrl": f"/{repo_id}/commit/{oid}", "commitOid": oid}

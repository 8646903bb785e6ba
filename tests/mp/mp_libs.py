"""Third-party MicroPython client libraries the stream tests run unmodified.

They come from the Python package registry at test setup time, pinned by
version and checked by the hash the registry lists, and are unpacked into
build/mp-libs (git-ignored, never committed). The registry is the one pip is
configured for on this machine (PIP_INDEX_URL, pip's global.index-url, or pip's
own default), found at run time.

Their sdists carry no setup.py, so `pip download` cannot fetch them; this asks
the registry's simple index (JSON form) for the file instead.
"""

import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LIBS = os.path.join(REPO, "build", "mp-libs")

# package, version, {path inside the sdist (after its top folder): path under LIBS}
PACKAGES = [
    ("micropython-umqtt-simple", "1.3.4", {"umqtt/simple.py": "umqtt/simple.py"}),
    ("micropython-urequests", "0.9.1", {"urequests/__init__.py": "urequests.py"}),
]


def _index_url():
    url = os.environ.get("PIP_INDEX_URL")
    if not url:
        try:
            url = subprocess.run(
                [sys.executable, "-m", "pip", "config", "get", "global.index-url"],
                capture_output=True, text=True, timeout=30,
            ).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            url = ""
    if not url:
        from pip._internal.models.index import PyPI  # pip's own default registry

        url = PyPI.simple_url
    return url.rstrip("/")


def _fetch(url, accept=None):
    request = urllib.request.Request(url, headers={"Accept": accept} if accept else {})
    with urllib.request.urlopen(request, timeout=60) as reply:
        return reply.read()


def _install(index, name, version, members):
    listing = json.loads(_fetch("%s/%s/" % (index, name), "application/vnd.pypi.simple.v1+json"))
    wanted = [f for f in listing["files"] if f["filename"].endswith("-%s.tar.gz" % version)]
    if not wanted:
        raise RuntimeError("%s %s: no sdist in the registry's index" % (name, version))
    entry = wanted[0]
    url = entry["url"]
    if url.startswith("/") or "://" not in url:
        url = urllib.request.urljoin("%s/%s/" % (index, name), url)
    data = _fetch(url)
    expected = entry.get("hashes", {}).get("sha256")
    if expected and hashlib.sha256(data).hexdigest() != expected:
        raise RuntimeError("%s %s: sha256 mismatch" % (name, version))
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        for member in tar.getmembers():
            inner = member.name.split("/", 1)[-1]
            if inner in members and member.isfile():
                target = os.path.join(LIBS, members[inner])
                os.makedirs(os.path.dirname(target), exist_ok=True)
                with open(target, "wb") as f:
                    f.write(tar.extractfile(member).read())


def ensure():
    """Returns the libraries' folder, fetching what is missing; None if that failed."""
    try:
        index = None
        for name, version, members in PACKAGES:
            if all(os.path.exists(os.path.join(LIBS, t)) for t in members.values()):
                continue
            index = index or _index_url()
            _install(index, name, version, members)
        return LIBS
    except Exception as e:  # the tests that need them fail with this note
        print("note: could not fetch the MicroPython client libraries: %s" % e, flush=True)
        return None


if __name__ == "__main__":
    print(ensure())

"""Links to the repository's web pages (GitHub or GitLab): commits, files and trees.

The base comes from the ``origin`` URL or from ``--link-base``. Credentials in the URL are
dropped, and only a plain ``https://host/owner/repo`` is kept: anything else gives no links
rather than a link that carries text from the repository's configuration.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import quote, urlsplit

_HOST = re.compile(r"^[A-Za-z0-9.-]+(?::[0-9]{1,5})?$")
_PATH = re.compile(r"^[A-Za-z0-9._~-]+(?:/[A-Za-z0-9._~-]+)+$")
_SCP = re.compile(r"^(?:[^@/:]+@)?(?P<host>[A-Za-z0-9.-]+):(?P<path>[^/].*)$")
_HEX = re.compile(r"^[0-9a-f]{4,64}$")


class Forge(StrEnum):
    GITHUB = "github"
    GITLAB = "gitlab"


@dataclass(frozen=True)
class RemoteLinks:
    """``base`` is ``https://host/owner/repo`` with no credentials and no ``.git``."""

    base: str
    forge: Forge

    @property
    def _sep(self) -> str:
        return "/-/" if self.forge is Forge.GITLAB else "/"

    def commit(self, sha: str) -> str | None:
        return f"{self.base}{self._sep}commit/{sha}" if _HEX.match(sha) else None

    def tree(self, sha: str) -> str | None:
        return f"{self.base}{self._sep}tree/{sha}" if _HEX.match(sha) else None

    def file(self, sha: str, path: str, line: int | None = None) -> str | None:
        if not _HEX.match(sha) or not path:
            return None
        anchor = f"#L{line}" if line else ""
        return f"{self.base}{self._sep}blob/{sha}/{quote(path, safe='/', errors='replace')}{anchor}"


def remote_links(url: str | None, forge: Forge | None = None) -> RemoteLinks | None:
    """Links for a remote URL in any of git's forms (``https://user:token@host/o/r.git``,
    ``ssh://git@host/o/r.git``, ``git@host:o/r.git``), or ``None`` when it names no GitHub
    or GitLab repository. ``forge`` forces the kind (``--link-base`` on a self-hosted
    host); otherwise a host named ``github``/``gitlab`` decides."""
    if not url:
        return None
    text = url.strip()
    scp = _SCP.match(text) if "://" not in text else None
    if scp:
        host, path = scp["host"], scp["path"]
    else:
        try:
            parts = urlsplit(text)
            host = parts.hostname or ""
            port = parts.port
        except ValueError:
            return None
        if parts.scheme not in ("https", "http", "ssh", "git", "git+ssh"):
            return None
        if port and parts.scheme in ("https", "http"):
            host = f"{host}:{port}"
        path = parts.path
    path = path.strip("/")
    path = path[:-4] if path.endswith(".git") else path
    if not _HOST.match(host) or not _PATH.match(path) or ".." in path.split("/"):
        return None
    if forge is None:
        lower = host.lower()
        if "github" in lower:
            forge = Forge.GITHUB
        elif "gitlab" in lower:
            forge = Forge.GITLAB
        else:
            return None
    return RemoteLinks(base=f"https://{host.lower()}/{path}", forge=forge)

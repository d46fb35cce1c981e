"""What the app and a platform agreed on: the registration, and the tool's own URLs.

The platform side (issuer, client id, deployments, authorization endpoint, key-set URL)
comes from the environment configuration; the tool side (login, launch and redirect URLs)
from the loopback listener's port. ``tool_urls`` is what ``companion app-config`` prints.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

LOOPBACK_HOST = "127.0.0.1"
LOGIN_PATH = "/lti/login"
LAUNCH_PATH = "/lti/launch"
CALLBACK_PATH = "/oidc/callback"

# Built-in values for the embedded sandbox platform (the sandbox has the same ones).
SANDBOX_CLIENT_ID = "timeback-companion-sandbox"
SANDBOX_DEPLOYMENT_ID = "sandbox-deployment-1"


@dataclass(frozen=True)
class Registration:
    """The tool's registration with one platform (an LTI 1.3 issuer).

    ``auth_url`` is the platform's OIDC authorization endpoint; ``jwks_url`` its key set.
    """

    issuer: str
    client_id: str
    deployment_ids: frozenset[str]
    auth_url: str
    jwks_url: str

    def knows_deployment(self, deployment_id: str) -> bool:
        """Whether ``deployment_id`` is one of this registration's deployments."""
        return deployment_id in self.deployment_ids


def sandbox_registration(base_url: str) -> Registration:
    """The registration with the embedded sandbox platform at ``base_url``."""
    base = base_url.rstrip("/")
    return Registration(
        issuer=base,
        client_id=SANDBOX_CLIENT_ID,
        deployment_ids=frozenset({SANDBOX_DEPLOYMENT_ID}),
        auth_url=f"{base}/lti/authorize",
        jwks_url=f"{base}/.well-known/jwks.json",
    )


@dataclass(frozen=True)
class ToolUrls:
    """The URLs a platform registers for this app on this computer."""

    login_url: str
    launch_url: str
    redirect_uri: str  # Sign in with Timeback's loopback redirect

    def as_dict(self) -> dict[str, str]:
        """The URLs by name, for ``companion app-config``."""
        return {"login_url": self.login_url, "launch_url": self.launch_url,
                "redirect_uri": self.redirect_uri}


def tool_urls(port: int) -> ToolUrls:
    """The tool's URLs when the loopback listener runs on ``port``."""
    base = f"http://{LOOPBACK_HOST}:{port}"
    return ToolUrls(login_url=f"{base}{LOGIN_PATH}", launch_url=f"{base}{LAUNCH_PATH}",
                    redirect_uri=f"{base}{CALLBACK_PATH}")


def is_launch_url(url: str, urls: ToolUrls) -> bool:
    """Whether ``url`` is our launch URL (any query, no fragment)."""
    try:
        got, ours = urlsplit(url), urlsplit(urls.launch_url)
    except ValueError:
        return False
    return (got.scheme, got.netloc, got.path, got.fragment) == (
        ours.scheme, ours.netloc, ours.path, "")

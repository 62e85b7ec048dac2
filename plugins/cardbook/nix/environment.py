"""Nix on this machine: the environment cardbook runs Nix with, whether Nix is there, and the
failures that come from how Nix is set up (not from the cards), each with what to change."""

from __future__ import annotations

import os
import re
import shutil
import subprocess

# Without an empty substituter list every build first waits seconds on DNS for a cache.
OFFLINE_NIX_CONFIG = "substituters =\nexperimental-features = nix-command flakes"


def nix_env() -> dict[str, str]:
    env = dict(os.environ)
    if "NIX_CONFIG" not in env:
        env["NIX_CONFIG"] = OFFLINE_NIX_CONFIG
    return env


# Nix failures that come from how Nix is set up on this machine, not from the cards: each is
# reported once, with what to change, instead of Nix's raw error at every card.
_NO_BUILD_GROUP = re.compile(r"the group '(?P<group>[^']*)' specified in 'build-users-group' does not exist")


_NO_DAEMON = re.compile(r"cannot connect to socket at '(?P<socket>[^']*)'")


_DENIED = ("Permission denied", "Operation not permitted")


def setup_failure(stderr: str) -> str | None:
    """What to change on this machine, when Nix failed because of its own setup."""
    found = _NO_BUILD_GROUP.search(stderr)
    if found is not None:
        where = "/etc/nix/nix.conf"
        if "build-users-group" in os.environ.get("NIX_CONFIG", ""):
            where = "NIX_CONFIG (it overrides nix.conf, and sets the group now)"
        return (
            f"Nix is set up to build as the users of group '{found['group']}', which does not exist: "
            "create that group and its build users (Debian: apt-get install nix-setup-systemd), or build "
            f"single-user as root with `build-users-group =` in {where} (see the Nix setup page)"
        )
    found = _NO_DAEMON.search(stderr)
    if found is not None:
        return (
            f"the Nix daemon is not running ({found['socket']} is missing): start it "
            "(systemctl start nix-daemon), or unset NIX_REMOTE to use the store directly as root"
        )
    for line in stderr.splitlines():
        if line.startswith("error:") and "/nix" in line and any(word in line for word in _DENIED):
            return (
                "no permission to use the Nix store under /nix: run as root, use the Nix daemon "
                "(NIX_REMOTE=daemon), or a store of your own (NIX_REMOTE=/some/folder); "
                f"Nix said: {line.removeprefix('error: ')}"
            )
    return None


class NixSetupError(Exception):
    """Nix cannot work on this machine as it is set up; the message says what to change."""


def run_nix(command: list[str], **options: object) -> subprocess.CompletedProcess[str]:
    """A Nix command; a failure caused by the machine's Nix setup raises NixSetupError."""
    done = subprocess.run(command, capture_output=True, text=True, env=nix_env(), **options)  # type: ignore[call-overload]
    if done.returncode != 0:
        advice = setup_failure(done.stderr)
        if advice is not None:
            raise NixSetupError(advice)
    return done


def missing_nix() -> str | None:
    for tool in ("nix-instantiate", "nix-build"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (Debian: apt-get install nix-bin)"
    return None

"""scripts/install-system-packages, which `make test` runs first: it installs only what is
missing from system-packages.txt, runs `apt-get update` only then, and without root or
passwordless sudo says what to install and fails.

`apt-get`, `sudo` and `id` are stand-ins on PATH that record what they were asked, so every
path runs for real (dpkg-query included) without installing anything.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import PROJECT_ROOT

SCRIPT = PROJECT_ROOT / "scripts" / "install-system-packages"
ABSENT = "meeting-storage-no-such-package"

pytestmark = pytest.mark.skipif(
    shutil.which("dpkg-query") is None, reason="a Debian/Ubuntu system (dpkg) is needed"
)


def _stand_in(folder: Path, name: str, body: str) -> None:
    path = folder / name
    path.write_text(f"#!/usr/bin/env bash\n{body}\n")
    path.chmod(0o755)


def run_script(
    tmp_path: Path, *args: str, uid: int = 0, sudo: bool = False
) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    """Run the script as user `uid` (0 is root), with or without passwordless sudo; returns
    the result and the apt-get command lines it ran (`sudo ` in front when through sudo)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    log = tmp_path / "apt-get.log"
    log.write_text("")
    _stand_in(bin_dir, "apt-get", f'echo "${{SUDO_PREFIX:-}}apt-get $*" >> "{log}"')
    _stand_in(bin_dir, "id", f'[[ "$1" == -u ]] && echo {uid} || /usr/bin/id "$@"')
    _stand_in(
        bin_dir,
        "sudo",
        ("exit 1" if not sudo else "")
        + '\n[[ "$1" == -n ]] && shift\n[[ "$1" == true ]] && exit 0\nSUDO_PREFIX="sudo " "$@"',
    )
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    result = subprocess.run(
        ["bash", str(SCRIPT), *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=60,
    )
    return result, log.read_text().splitlines()


def test_with_everything_installed_it_does_nothing(tmp_path: Path) -> None:
    result, apt = run_script(tmp_path, "dpkg", "bash")
    assert (result.returncode, result.stdout, result.stderr, apt) == (0, "", "", [])


def test_the_project_list_is_installed_here(tmp_path: Path) -> None:
    """`make test` ran the script before the tests, so nothing is left to install."""
    result, apt = run_script(tmp_path, "--dry-run")
    assert (result.returncode, result.stdout, result.stderr, apt) == (0, "", "", [])


def test_only_missing_packages_are_installed_after_an_update(tmp_path: Path) -> None:
    listing = tmp_path / "packages.txt"
    listing.write_text(f"# what a test needs\ndpkg   # present\n\n{ABSENT}  # absent\n")
    result, apt = run_script(tmp_path, "--list", str(listing))
    assert result.returncode == 0, result.stderr
    assert f"Installing system packages: {ABSENT}" in result.stdout
    assert apt == ["apt-get update", f"apt-get install -y --no-install-recommends {ABSENT}"]


def test_dry_run_says_what_it_would_install_and_installs_nothing(tmp_path: Path) -> None:
    result, apt = run_script(tmp_path, "--dry-run", "dpkg", ABSENT)
    assert result.returncode == 0
    assert result.stdout.splitlines() == [
        f"Would install: {ABSENT}",
        f"  apt-get update && apt-get install -y --no-install-recommends {ABSENT}",
    ]
    assert apt == []


def test_without_root_it_uses_passwordless_sudo(tmp_path: Path) -> None:
    result, apt = run_script(tmp_path, ABSENT, uid=1000, sudo=True)
    assert result.returncode == 0, result.stderr
    assert apt == [
        "sudo apt-get update",
        f"sudo apt-get install -y --no-install-recommends {ABSENT}",
    ]


def test_without_root_or_sudo_it_names_the_packages_and_fails(tmp_path: Path) -> None:
    result, apt = run_script(tmp_path, "dpkg", ABSENT, "bash", uid=1000)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"Missing system packages: {ABSENT}",
        "Install them as root, then run this again:",
        f"  sudo apt-get update && sudo apt-get install -y --no-install-recommends {ABSENT}",
    ]
    assert apt == []

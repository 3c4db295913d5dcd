"""Make sure headless Chromium is available for the browser tests.

Playwright's own browser download needs internet access that test machines often lack, so the
tests drive the distribution's Chromium instead. This installs Debian/Ubuntu's ``chromium``
package when it is missing (as root, or through sudo) and says what to do otherwise.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

CHROMIUM = os.environ.get("KAIPAI_CHROMIUM", "/usr/bin/chromium")


def main() -> int:
    if os.path.exists(CHROMIUM):
        print(f"browser: {CHROMIUM}")
        return 0
    if shutil.which("apt-get") is None:
        print(
            f"browser: {CHROMIUM} is missing and there is no apt-get; "
            "install Chromium and set KAIPAI_CHROMIUM to its path",
            file=sys.stderr,
        )
        return 1
    prefix: list[str] = [] if os.geteuid() == 0 else (["sudo", "-n"] if shutil.which("sudo") else [])
    if os.geteuid() != 0 and not prefix:
        print("browser: run as root (or with sudo) to install Chromium: apt-get install -y chromium", file=sys.stderr)
        return 1
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    print("browser: installing Debian's chromium package …", flush=True)
    subprocess.run([*prefix, "apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(
        [*prefix, "apt-get", "install", "-y", "-qq", "--no-install-recommends", "chromium"], check=True, env=env
    )
    if not os.path.exists(CHROMIUM):
        print(f"browser: chromium installed but {CHROMIUM} is missing; set KAIPAI_CHROMIUM", file=sys.stderr)
        return 1
    print(f"browser: {CHROMIUM}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

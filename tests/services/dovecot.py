"""A throwaway Dovecot IMAP server for tests: its own config, users and Maildirs in a temp dir."""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

INSTALL_SCRIPT = Path(__file__).with_name("install_dovecot.sh")
PASSWORD = "secret"  # every test user logs in with it; one user per test keeps mailboxes apart

CONFIG = """\
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_failure_delay = 0
auth_mechanisms = plain login
first_valid_uid = 0
default_internal_user = {internal_user}
default_internal_group = {internal_group}
default_login_user = {login_user}
mail_location = maildir:~/Maildir
mail_uid = {uid}
mail_gid = {gid}
passdb {{
  driver = static
  args = password={password}
}}
userdb {{
  driver = static
  args = home={root}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
  # No brute-force penalty: tests log in with a wrong password on purpose, then right ones.
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
service imap-login {{
  chroot =
}}
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def ensure_installed() -> str:
    """Return the dovecot binary, installing Debian's dovecot-imapd through the script if needed."""
    found = shutil.which("dovecot") or shutil.which("dovecot", path="/usr/sbin:/sbin")
    if found:
        return found
    subprocess.run(["sh", str(INSTALL_SCRIPT)], check=True)
    found = shutil.which("dovecot", path="/usr/sbin:/sbin:" + os.environ.get("PATH", ""))
    if not found:
        raise RuntimeError("dovecot is still missing after running " + str(INSTALL_SCRIPT))
    return found


def _mail_owner() -> tuple[int, int]:
    # Dovecot refuses to run its processes as root, so as root mail belongs to the `dovecot` user.
    if os.getuid() != 0:
        return os.getuid(), os.getgid()
    entry = pwd.getpwnam("dovecot")
    return entry.pw_uid, entry.pw_gid


def _accounts() -> dict[str, object]:
    uid, gid = _mail_owner()
    if os.getuid() == 0:
        internal, group, login = "dovecot", "dovecot", "dovenull"
    else:
        internal = login = pwd.getpwuid(uid).pw_name
        group = grp.getgrgid(gid).gr_name
    return {
        "uid": uid,
        "gid": gid,
        "internal_user": internal,
        "internal_group": group,
        "login_user": login,
    }


class DovecotServer:
    """Start/stop a private dovecot on a random loopback port; `kick(user)` drops a user's sessions."""

    def __init__(self, root: Path | None = None) -> None:
        # Not under pytest's tmp dirs: those are 0700 root, and dovecot's mail user must reach home.
        self._owns_root = root is None
        self.root = root or Path(tempfile.mkdtemp(prefix="csgw-dovecot-"))
        self.root.chmod(0o755)
        self.host = "127.0.0.1"
        self.port = free_port()
        self.password = PASSWORD
        self.binary = ensure_installed()
        self.config = self.root / "dovecot.conf"

    def start(self, timeout: float = 15.0) -> None:
        for sub in ("run", "state", "home"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        self.config.write_text(
            CONFIG.format(root=self.root, port=self.port, password=PASSWORD, **_accounts())
        )
        os.chown(self.root / "home", *_mail_owner())
        subprocess.run([self.binary, "-c", str(self.config)], check=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with socket.create_connection((self.host, self.port), timeout=0.5) as sock:
                    if sock.recv(64).startswith(b"* OK"):
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("dovecot did not come up; see " + str(self.root / "dovecot.log"))

    def kick(self, user: str) -> None:
        doveadm = shutil.which("doveadm", path="/usr/bin:/usr/sbin:/bin")
        subprocess.run(
            [doveadm, "-c", str(self.config), "kick", user], check=True, capture_output=True
        )

    def stop(self) -> None:
        pid_file = self.root / "run" / "master.pid"
        if pid_file.exists():
            pid = int(pid_file.read_text().strip())
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    break
                time.sleep(0.05)
        if self._owns_root:
            shutil.rmtree(self.root, ignore_errors=True)

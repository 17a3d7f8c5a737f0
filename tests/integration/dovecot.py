"""A throwaway Dovecot IMAP server (Debian's dovecot-imapd) to compare the bridge against.

    server = DovecotServer()
    port, user, password = server.start([b"Subject: a\\r\\n\\r\\nbody\\r\\n", ...])
    ... imaplib.IMAP4("127.0.0.1", port).login(user, password) ...
    server.stop()

or as a context manager (`with DovecotServer() as server: ...`). start() writes the messages
into the INBOX of a fresh maildir in a temp directory, in the order given (message i gets
sequence number and UID i + 1; it is stored byte for byte as given, so Dovecot serves it with
CRLF line endings), writes a private config (plain auth over cleartext from a passwd-file with one
test user, IMAP on 127.0.0.1 on a free port, no TLS, logs in the temp dir), starts `dovecot -F`
and waits until the port answers. stop() ends it and removes the temp dir.

Dovecot runs as the current user. When that is root it runs as `nobody` instead (through
setpriv), because Dovecot refuses to give mail access to UID 0.

Skip a test with `DovecotServer.available()` when dovecot is not installed
(scripts/deps.sh installs dovecot-imapd).
"""

import os
import pwd
import grp
import shutil
import socket
import subprocess
import tempfile
import time

DOVECOT = os.environ.get("MAILTRIXY_DOVECOT", "/usr/sbin/dovecot")

CONFIG = """\
protocols = imap
listen = 127.0.0.1
base_dir = {home}/run
state_dir = {home}/state
log_path = {home}/dovecot.log
info_log_path = {home}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
default_internal_user = {user}
default_internal_group = {group}
default_login_user = {user}
first_valid_uid = {uid}
last_valid_uid = {uid}
first_valid_gid = {gid}
last_valid_gid = {gid}
mail_location = maildir:{home}/mail/%u
mail_uid = {uid}
mail_gid = {gid}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {home}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={home}/home/%u
}}
service imap-login {{
  chroot =
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
}}
service auth {{
  user = {user}
}}
service auth-worker {{
  user = {user}
}}
service stats {{
  user = {user}
}}
"""


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class DovecotServer:
    """One Dovecot instance with one user and one INBOX; see the module docstring."""

    USER = "tester"
    PASSWORD = "test-password-1"

    def __init__(self):
        self.home = None
        self.process = None
        self.port = None

    @staticmethod
    def available():
        return os.access(DOVECOT, os.X_OK)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def _identity(self):
        if os.geteuid() == 0:
            entry = pwd.getpwnam("nobody")
            return entry.pw_name, grp.getgrgid(entry.pw_gid).gr_name, entry.pw_uid, entry.pw_gid, True
        entry = pwd.getpwuid(os.geteuid())
        return entry.pw_name, grp.getgrgid(os.getegid()).gr_name, os.geteuid(), os.getegid(), False

    def start(self, messages):
        """Starts Dovecot with `messages` (bytes) in INBOX; returns (port, user, password)."""
        if not self.available():
            raise RuntimeError(f"{DOVECOT} is missing; install dovecot-imapd (scripts/deps.sh)")
        user, group, uid, gid, drop = self._identity()
        self.home = tempfile.mkdtemp(prefix="mailtrixy-dovecot-")
        maildir = os.path.join(self.home, "mail", self.USER)
        for sub in ("cur", "new", "tmp"):
            os.makedirs(os.path.join(maildir, sub))
        for sub in ("run", "state", "home"):
            os.makedirs(os.path.join(self.home, sub))
        base = 1500000000
        for i, message in enumerate(messages):
            # Dovecot gives new maildir files UIDs in file name (timestamp) order.
            name = f"{base + i}.M{i}P1.mailtrixy:2,S"
            with open(os.path.join(maildir, "cur", name), "wb") as f:
                f.write(message)
        with open(os.path.join(self.home, "passwd"), "w") as f:
            f.write(f"{self.USER}:{{PLAIN}}{self.PASSWORD}::::::\n")
        if drop:
            for root, dirs, files in os.walk(self.home):
                os.chown(root, uid, gid)
                for name in files:
                    os.chown(os.path.join(root, name), uid, gid)
            os.chmod(self.home, 0o755)
        last_error = None
        for _ in range(5):
            self.port = _free_port()
            config = os.path.join(self.home, "dovecot.conf")
            with open(config, "w") as f:
                f.write(CONFIG.format(home=self.home, user=user, group=group, uid=uid, gid=gid, port=self.port))
            if drop:
                os.chown(config, uid, gid)
            command = [DOVECOT, "-F", "-c", config]
            if drop:
                command = ["setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups"] + command
            self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            if self._wait_ready():
                return self.port, self.USER, self.PASSWORD
            last_error = self._log_tail()
            self._kill()
        raise RuntimeError(f"dovecot did not start: {last_error}")

    def _wait_ready(self, timeout=15):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.process.poll() is not None:
                return False
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                    if s.recv(100).startswith(b"* OK"):
                        return True
            except OSError:
                pass
            time.sleep(0.1)
        return False

    def _log_tail(self):
        parts = []
        if self.process is not None and self.process.stdout is not None and self.process.poll() is not None:
            parts.append(self.process.stdout.read().decode(errors="replace"))
        log = os.path.join(self.home, "dovecot.log") if self.home else None
        if log and os.path.exists(log):
            with open(log, errors="replace") as f:
                parts.append(f.read()[-3000:])
        return "\n".join(parts)

    def _kill(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process is not None and self.process.stdout is not None:
            self.process.stdout.close()
        self.process = None

    def stop(self):
        """Stops Dovecot and removes its temp directory; safe to call twice."""
        self._kill()
        if self.home is not None:
            shutil.rmtree(self.home, ignore_errors=True)
            self.home = None

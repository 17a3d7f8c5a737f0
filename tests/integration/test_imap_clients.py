"""Real IMAP clients against `mailtrixy serve` signed in to the emulator, each result checked on the
Microsoft side through Graph.

The mbsync and mutt configurations are docs/clients/mbsyncrc and docs/clients/muttrc, the files
docs/clients.md shows, with their placeholders filled in.

- mbsync (Debian isync): a full two-way sync of INBOX and Projects into a Maildir over implicit TLS
  (the bridge's certificate pinned), then flag changes both ways (\\Seen set locally reaches
  isRead; isRead set at Microsoft reaches the local file name) and a new local message uploaded
  as a non-draft message.
- mutt in batch mode (driven through a pseudo-terminal with `push`): reads one message (-> isRead)
  and saves another into Projects (-> moved at Microsoft).
"""

import glob
import os
import pty
import select
import shutil
import subprocess
import time
import unittest

from harness import TestCase
import client_configs
import imap_harness as H
import signin_harness as S


def run_mbsync(config, timeout=120):
    result = subprocess.run(["mbsync", "-c", config, "-a"], capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        raise AssertionError(f"mbsync failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


def maildir_messages(folder):
    """{subject: path} of a Maildir folder (new/ and cur/)."""
    found = {}
    for path in glob.glob(os.path.join(folder, "cur", "*")) + glob.glob(os.path.join(folder, "new", "*")):
        with open(path, "rb") as f:
            for line in f.read().split(b"\n"):
                if line.lower().startswith(b"subject:"):
                    found[line.split(b":", 1)[1].strip().decode()] = path
                    break
    return found


def maildir_flags(path):
    name = os.path.basename(path)
    return name.split(":2,", 1)[1] if ":2," in name else ""


def run_in_terminal(argv, env, timeout=90):
    """Runs a full-screen program on a pseudo-terminal until it exits; returns (status, output)."""
    pid, fd = pty.fork()
    if pid == 0:  # child
        try:
            os.execvpe(argv[0], argv, env)
        finally:
            os._exit(127)
    output = b""
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.5)
            if ready:
                try:
                    chunk = os.read(fd, 65536)
                except OSError:
                    break
                if not chunk:
                    break
                output += chunk
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                return status, output.decode("utf-8", "replace")
        else:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
            raise AssertionError(f"{argv[0]} did not finish within {timeout}s:\n{output[-4000:]!r}")
        _, status = os.waitpid(pid, 0)
        return status, output.decode("utf-8", "replace")
    finally:
        os.close(fd)


@unittest.skipUnless(shutil.which("mbsync"), "mbsync (Debian isync) is not installed; run scripts/deps.sh")
class MbsyncTest(TestCase):
    def test_two_way_sync_then_flag_changes_both_ways(self):
        world = H.start_world(self, inbox=3, projects=1)
        world.wait_for_messages("Projects", 1)
        local = self.home.file("maildir")
        os.makedirs(local)
        config = self.home.file("mbsyncrc")
        with open(config, "w") as f:
            f.write(client_configs.render("mbsyncrc", {
                "127.0.0.1\nPort 1993": f"127.0.0.1\nPort {world.imaps_port}",
                "you@outlook.com": S.USER,
                "~/.mailtrixy-password": client_configs.write_password_file(self.home.file("password"),
                                                                            world.password),
                "~/.mailtrixy/server.crt": world.cert(),
                "~/Mail/outlook": local,
                "Patterns *": "Patterns INBOX Projects",
            }))
        run_mbsync(config)
        inbox = maildir_messages(os.path.join(local, "INBOX"))
        self.assertEqual(sorted(inbox), ["inbox 1", "inbox 2", "inbox 3"])
        self.assertEqual(sorted(maildir_messages(os.path.join(local, "Projects"))), ["project 1"])
        with open(inbox["inbox 1"], "rb") as f:
            self.assertIn(b"Body of message 1.", f.read())
        self.assertTrue(all("S" not in maildir_flags(p) for p in inbox.values()))

        # Local -> Microsoft: \Seen on inbox 1, and a new message.
        path = inbox["inbox 1"]
        seen_path = os.path.join(local, "INBOX", "cur", os.path.basename(path).split(":2,")[0] + ":2,S")
        os.rename(path, seen_path)
        new_message = H.message("written locally", body="Made in the Maildir.\r\n")
        with open(os.path.join(local, "INBOX", "new", "1700000000.local1.test"), "w") as f:
            f.write(new_message)
        run_mbsync(config)
        graph_inbox = world.graph_messages("inbox")
        self.assertTrue(graph_inbox["inbox 1"]["isRead"])
        self.assertFalse(graph_inbox["inbox 2"]["isRead"])
        self.assertIn("written locally", graph_inbox)
        self.assertFalse(graph_inbox["written locally"]["isDraft"])

        # Microsoft -> local: isRead on inbox 2, seen by the bridge's sync, then by mbsync.
        world.graph("PATCH", f"/me/messages/{graph_inbox['inbox 2']['id']}", {"isRead": True})

        def bridge_sees_it():
            client = world.imaps()
            try:
                client.select("INBOX", readonly=True)
                return client.uid("SEARCH", None, 'SEEN SUBJECT "inbox 2"')[1][0].split()
            finally:
                client.logout()
        H.wait_until(bridge_sees_it, 20, "the bridge to see isRead on inbox 2")
        run_mbsync(config)
        inbox = maildir_messages(os.path.join(local, "INBOX"))
        self.assertIn("S", maildir_flags(inbox["inbox 2"]))
        self.assertNotIn("S", maildir_flags(inbox["inbox 3"]))
        self.assertIn("written locally", inbox)

        # A second run with nothing changed changes nothing (UIDs and UIDVALIDITY are stable).
        before = sorted(os.listdir(os.path.join(local, "INBOX", "cur")))
        run_mbsync(config)
        self.assertEqual(sorted(os.listdir(os.path.join(local, "INBOX", "cur"))), before)


@unittest.skipUnless(shutil.which("mutt"), "mutt is not installed; run scripts/deps.sh")
class MuttTest(TestCase):
    def test_reads_one_message_and_moves_another(self):
        world = H.start_world(self, inbox=3, projects=1)
        rc = self.home.file("muttrc")
        with open(rc, "w") as f:
            f.write(client_configs.render("muttrc", {
                "you@outlook.com": S.USER,
                "BRIDGE-PASSWORD": world.password,
                "127.0.0.1:1993": f"127.0.0.1:{world.imaps_port}",
                "~/.mailtrixy/server.crt": self.home.file("mutt_certificates"),
            }))
            # Batch mode only: no caches, no prompts, no background checks, quit without asking.
            f.write("""\
set header_cache = ""
set message_cachedir = ""
set move = no
set delete = yes
set quit = yes
set confirmappend = no
set confirmcreate = no
set mail_check = 3600
set timeout = 3600
set sort = date
set pager_stop = yes
""")
        # Trust exactly the bridge's certificate.
        shutil.copy(world.cert(), self.home.file("mutt_certificates"))
        keys = ("<search>~s inbox.1<enter><display-message><exit>"
                "<search>~s inbox.2<enter><save-message>=Projects<enter>"
                "<sync-mailbox><quit>")
        env = dict(os.environ, TERM="xterm", HOME=self.home.path, LANG="C.UTF-8")
        status, output = run_in_terminal(["mutt", "-n", "-F", rc, "-e", f'push "{keys}"'], env)
        self.assertEqual(os.waitstatus_to_exitcode(status), 0, output[-4000:])
        inbox = H.wait_until(lambda: (lambda m: m if "inbox 2" not in m else None)(world.graph_messages("inbox")),
                             15, "inbox 2 to leave the Inbox")
        self.assertTrue(inbox["inbox 1"]["isRead"])
        self.assertFalse(inbox["inbox 3"]["isRead"])
        projects = world.graph_messages("Projects")
        self.assertIn("inbox 2", projects)
        self.assertIn("project 1", projects)


if __name__ == "__main__":
    unittest.main()

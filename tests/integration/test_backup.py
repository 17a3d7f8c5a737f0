"""`mailtrixy backup`: a backup of a RUNNING bridge with a signed-in account, restored into a
fresh data_dir, serves the same mailbox: the same bridge password logs in over IMAP and sees the
same UIDVALIDITY and UIDs. Also the command's refusals and the no-bridge path.
"""

import os
import re
import shutil
import stat
import unittest

from harness import TempHome
import imap_harness as I
import signin_harness as S


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def mailbox_state(world):
    """(UIDVALIDITY, [UIDs]) of INBOX as the bridge shows it."""
    client = world.imaps()
    try:
        typ, data = client.status("INBOX", "(UIDVALIDITY)")
        assert typ == "OK", data
        uidvalidity = int(re.search(rb"UIDVALIDITY (\d+)", data[0]).group(1))
        client.select("INBOX", readonly=True)
        typ, data = client.uid("SEARCH", "ALL")
        assert typ == "OK", data
        return uidvalidity, [int(uid) for uid in data[0].split()]
    finally:
        client.logout()


class BackupTest(unittest.TestCase):
    def setUp(self):
        self.home = TempHome()
        self.addCleanup(self.home.cleanup)

    def test_backup_of_a_running_bridge_restores_the_same_mailbox(self):
        world = I.start_world(self, inbox=3, projects=1)
        before = mailbox_state(world)
        self.assertEqual(len(before[1]), 3)

        backup = self.home.file("backups", "b1")
        done = world.cli("backup", "--to", backup, "--include-master-key")
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertIn("master key", done.stdout)
        self.assertTrue(os.path.exists(os.path.join(backup, "db", "CURRENT")))
        self.assertEqual(mode(backup), 0o700)
        self.assertEqual(mode(os.path.join(backup, "db")), 0o700)
        self.assertEqual(mode(os.path.join(backup, "master.key")), 0o600)
        for name in os.listdir(os.path.join(backup, "db")):
            self.assertEqual(mode(os.path.join(backup, "db", name)), 0o600, name)
        self.assertIn("backup written", world.bridge.output())  # the running bridge made it

        # Without the flag the key stays out, and the sentence says where it is.
        keyless = self.home.file("backups", "b2")
        done = world.cli("backup", "--to", keyless)
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertFalse(os.path.exists(os.path.join(keyless, "master.key")))
        self.assertIn("master.key", done.stdout)

        # Restore: stop, replace data_dir with the backup, start.
        world.stop_bridge()
        data_dir = world.data_dir()
        shutil.move(data_dir, data_dir + ".old")
        shutil.copytree(backup, data_dir)
        os.chmod(data_dir, 0o700)
        world.start_bridge()
        world.imaps_port = int(world.bridge.wait_for_log(
            r"imaps listening\W.*?address=127\.0\.0\.1:(\d+)").group(1))
        self.assertEqual(mailbox_state(world), before)

        # With no bridge running, the CLI makes the checkpoint itself.
        world.stop_bridge()
        offline = self.home.file("backups", "b3")
        done = world.cli("backup", "--to", offline)
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertTrue(os.path.exists(os.path.join(offline, "db", "CURRENT")))

    def test_refusals_are_one_clear_sentence(self):
        world = S.SignInWorld(self.home)
        self.addCleanup(world.emulator.kill)
        missing_to = world.cli("backup")
        self.assertEqual(missing_to.returncode, 2)
        self.assertIn("--to", missing_to.stderr)
        unknown = world.cli("backup", "--to", self.home.file("x"), "--frobnicate")
        self.assertEqual(unknown.returncode, 2)
        nothing = world.cli("backup", "--to", self.home.file("x"))
        self.assertEqual(nothing.returncode, 1)
        self.assertIn("nothing to back up", nothing.stderr)

        world.start_bridge()
        self.addCleanup(world.bridge.kill)
        occupied = self.home.file("occupied")
        os.makedirs(occupied)
        with open(os.path.join(occupied, "file"), "w") as f:
            f.write("x")
        not_empty = world.cli("backup", "--to", occupied)
        self.assertEqual(not_empty.returncode, 1)
        self.assertIn("not empty", not_empty.stderr)
        inside = world.cli("backup", "--to", os.path.join(world.data_dir(), "backup"))
        self.assertEqual(inside.returncode, 1)
        self.assertIn("inside data_dir", inside.stderr)
        for result in (not_empty, inside):
            self.assertEqual(len(result.stderr.strip().splitlines()), 1, result.stderr)


if __name__ == "__main__":
    unittest.main()

"""Mailbox sync end to end: `mailtrixy serve` signed in to the emulator (standing in for
Microsoft), its cache inspected with `mailtrixy mailbox folders|messages` (a read-only view of the
store, next to the running bridge).

Covers: the initial sync of a seeded mailbox with nested folders; new mail delivered on the
Microsoft side appearing within the poll interval; a restart and a kill -9 keeping every UID and
UIDVALIDITY; a forced 410 (expire-delta) resync keeping UIDs; a 429 storm and 503 faults survived
with never more than 4 requests in flight (emulator stats); an access token expiring mid-sync
refreshed transparently.
"""

import os
import time

from harness import TestCase
import signin_harness as S

POLL = "2s"
IDLE_POLL = "1s"


def wait_until(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(0.3)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}; last: {last!r}")


def message(subject, body="hello\r\n"):
    return (f"From: Carol <carol@example.com>\r\nTo: {S.USER}\r\nSubject: {subject}\r\n"
            f"Date: Mon, 02 Mar 2026 10:00:00 +0000\r\nMessage-ID: <{subject.replace(' ', '.')}@example.com>\r\n"
            f"\r\n{body}")


class SyncWorld(S.SignInWorld):
    def write_config(self):
        path = super().write_config()
        with open(path, "a") as f:
            f.write(f"sync:\n  poll_interval: {POLL}\n  idle_poll_interval: {IDLE_POLL}\n")
        return path


class SyncTest(TestCase):
    def seed(self, inbox=5):
        root = self.home.file("seed")
        os.makedirs(os.path.join(root, "Projects", "2026"), exist_ok=True)
        for i in range(1, inbox + 1):
            with open(os.path.join(root, f"{i:03}.eml"), "w") as f:
                f.write(message(f"inbox {i}"))
        with open(os.path.join(root, "Projects", "p1.eml"), "w") as f:
            f.write(message("project one"))
        for i in range(1, 3):
            with open(os.path.join(root, "Projects", "2026", f"q{i}.eml"), "w") as f:
                f.write(message(f"quarter {i}"))
        return root

    def signed_in_world(self, emulator_args=(), inbox=5):
        seed = self.seed(inbox)
        world = SyncWorld(self.home, emulator_args=["--seed", f"{S.USER}={seed}", *emulator_args])
        self.addCleanup(world.close)
        world.start_bridge()
        page, _ = world.sign_in(world.browser())
        self.assertEqual(page.status, 200, page.text)
        self.assertIn("Outlook connected successfully!", page.text)
        return world

    def folders(self, world):
        result = world.cli("mailbox", "folders", S.USER)
        if result.returncode != 0:
            return {}
        rows = [line.split("\t") for line in result.stdout.splitlines()[1:] if line]
        return {row[6]: {"uidvalidity": int(row[0]), "uidnext": int(row[1]), "messages": int(row[2]),
                         "unseen": int(row[3]), "synced": row[4] == "yes", "special": row[5]} for row in rows}

    def messages(self, world, folder="INBOX"):
        result = world.cli("mailbox", "messages", S.USER, folder)
        self.assertEqual(result.returncode, 0, result.stderr)
        rows = [line.split("\t") for line in result.stdout.splitlines()[2:] if line]
        return {row[4]: int(row[0]) for row in rows}

    def wait_synced(self, world, inbox=5, timeout=30):
        def synced():
            folders = self.folders(world)
            inbox_state = folders.get("INBOX")
            if not inbox_state or inbox_state["messages"] != inbox:
                return None
            if not all(f["synced"] for f in folders.values()):
                return None
            return folders
        return wait_until(synced, timeout, "the initial sync")

    def test_initial_sync_of_a_seeded_mailbox_with_nested_folders(self):
        world = self.signed_in_world()
        folders = self.wait_synced(world)
        self.assertEqual(folders["INBOX"]["uidnext"], 6)
        self.assertEqual(folders["INBOX"]["unseen"], 5)
        self.assertEqual(folders["Projects"]["messages"], 1)
        self.assertEqual(folders["Projects/2026"]["messages"], 2)
        self.assertEqual(folders["Sent Items"]["special"], "\\Sent")
        self.assertEqual(folders["Deleted Items"]["special"], "\\Trash")
        self.assertEqual(len({f["uidvalidity"] for f in folders.values()}), len(folders))
        self.assertEqual(sorted(self.messages(world).values()), [1, 2, 3, 4, 5])
        nested = self.messages(world, "Projects/2026")
        self.assertEqual(set(nested), {"quarter 1", "quarter 2"})
        self.assertEqual(sorted(nested.values()), [1, 2])
        bad = world.cli("mailbox", "messages", S.USER, "No/Such")
        self.assertEqual(bad.returncode, 1)
        self.assertIn("has no folder", bad.stderr)

    def test_delivered_mail_appears_within_the_poll_interval(self):
        world = self.signed_in_world()
        self.wait_synced(world)
        status, _ = world.emulator.control("POST", f"/users/{S.USER}/deliver", message("fresh news"))
        self.assertEqual(status, 200)
        started = time.monotonic()
        wait_until(lambda: "fresh news" in self.messages(world), 15, "the delivered message")
        self.assertLess(time.monotonic() - started, 2 * 2 + 3)  # poll_interval, plus a round
        self.assertEqual(self.messages(world)["fresh news"], 6)

    def graph(self, world, method, path, body=None):
        """A Graph call made "from Outlook": with an access token the emulator issued to the bridge."""
        import json as _json
        import urllib.parse as _parse
        _, tokens = world.emulator.control("GET", "/tokens")
        token = [t for t in tokens["access_tokens"] if t["user"] == S.USER and not t["expired"]][-1]["token"]
        headers = {"Authorization": f"Bearer {token}", "Prefer": 'IdType="ImmutableId"'}
        if body is not None:
            body = _json.dumps(body)
            headers["Content-Type"] = "application/json"
        status, _, data = world.emulator.request(method, "/v1.0" + _parse.quote(path, safe="/=$?&-_.~"), body, headers)
        self.assertLess(status, 300, data)
        return status

    def ids(self, world, folder="INBOX"):
        result = world.cli("mailbox", "messages", S.USER, folder)
        rows = [line.split("\t") for line in result.stdout.splitlines()[2:] if line]
        return {row[4]: (int(row[0]), row[1], row[3]) for row in rows}

    def test_moves_deletes_and_flag_changes_on_the_microsoft_side_appear(self):
        world = self.signed_in_world()
        self.wait_synced(world)
        before = self.ids(world)
        self.graph(world, "PATCH", f"/me/messages/{before['inbox 1'][2]}",
                   {"isRead": True, "flag": {"flagStatus": "flagged"}, "categories": ["Red category"]})
        self.graph(world, "POST", f"/me/messages/{before['inbox 2'][2]}/move", {"destinationId": "archive"})
        self.graph(world, "DELETE", f"/me/messages/{before['inbox 3'][2]}")

        def changed():
            now = self.ids(world)
            return now if "inbox 2" not in now and "inbox 3" not in now and "\\Flagged" in now["inbox 1"][1] else None
        after = wait_until(changed, 15, "the Outlook-side changes")
        self.assertEqual(after["inbox 1"][0], before["inbox 1"][0])
        self.assertIn("\\Seen", after["inbox 1"][1])
        self.assertIn("Red_category", after["inbox 1"][1])
        self.assertEqual(after["inbox 4"][0], before["inbox 4"][0])
        archived = wait_until(lambda: self.ids(world, "Archive").get("inbox 2"), 15, "the moved message")
        self.assertEqual(archived[2], before["inbox 2"][2])  # immutable id kept across the move
        self.assertEqual(self.folders(world)["INBOX"]["uidnext"], 6)

    def test_restart_and_kill_keep_every_uid_and_uidvalidity(self):
        world = self.signed_in_world()
        before = self.wait_synced(world)
        uids = self.messages(world)
        self.assertEqual(world.stop_bridge(), 0)
        world.start_bridge()
        time.sleep(3)
        self.assertEqual(self.folders(world), before)
        self.assertEqual(self.messages(world), uids)
        # kill -9 while rounds are running, with new mail arriving.
        for i in range(3):
            world.emulator.control("POST", f"/users/{S.USER}/deliver", message(f"late {i}"))
        time.sleep(0.5)
        world.bridge.kill()  # SIGKILL
        world.start_bridge()
        wait_until(lambda: len(self.messages(world)) == 8, 20, "the late messages")
        after = self.messages(world)
        for subject, uid in uids.items():
            self.assertEqual(after[subject], uid)
        self.assertEqual(sorted(after[f"late {i}"] for i in range(3)), [6, 7, 8])
        self.assertEqual(self.folders(world)["INBOX"]["uidvalidity"], before["INBOX"]["uidvalidity"])

    def test_kill_in_the_middle_of_a_round_keeps_every_uid(self):
        # 1000 messages at 200 per delta page and 500 ms per Graph answer: the initial INBOX round
        # takes several pages, so the snapshot below sees it half applied and the kill lands inside it.
        total = 1000
        world = self.signed_in_world(emulator_args=["--latency", "500"], inbox=total)

        def half_applied():
            try:
                now = self.messages(world)
            except AssertionError:  # the folder is not known yet
                return None
            return now if 0 < len(now) < total else None
        snapshot = wait_until(half_applied, 60, "a half-applied INBOX round")
        world.bridge.kill()  # SIGKILL, mid-round: its delta link was never stored
        world.start_bridge()
        after = wait_until(lambda: (lambda m: m if len(m) == total else None)(self.messages(world)), 90,
                           "the round restarted after the kill")
        for subject, uid in snapshot.items():
            self.assertEqual(after[subject], uid)
        # No UID was burned: the messages applied before the kill kept theirs, the rest continued.
        self.assertEqual(sorted(after.values()), list(range(1, total + 1)))

    def test_forced_410_resync_keeps_uids(self):
        world = self.signed_in_world()
        self.wait_synced(world)
        uids = self.messages(world)
        status, _ = world.emulator.control("POST", f"/users/{S.USER}/expire-delta")
        self.assertEqual(status, 200)
        world.emulator.control("POST", f"/users/{S.USER}/deliver", message("after expiry"))
        wait_until(lambda: "after expiry" in self.messages(world), 20, "the resync")
        after = self.messages(world)
        for subject, uid in uids.items():
            self.assertEqual(after[subject], uid)
        self.assertEqual(after["after expiry"], 6)
        self.assertIn("delta state expired", world.bridge.output())

    def test_throttling_and_faults_are_survived_within_four_requests_in_flight(self):
        world = self.signed_in_world()
        self.wait_synced(world)
        world.emulator.control("POST", "/stats/reset")
        faults = [{"route": "delta", "kind": "status", "status": 429, "retry_after": 0.5, "count": 6},
                  {"route": "delta", "kind": "status", "status": 503, "count": 3}]
        status, _ = world.emulator.control("POST", "/faults", faults)
        self.assertEqual(status, 200)
        world.emulator.control("POST", f"/users/{S.USER}/deliver", message("through the storm"))
        wait_until(lambda: "through the storm" in self.messages(world), 40, "the message after the faults")
        status, stats = world.emulator.control("GET", "/stats")
        self.assertEqual(status, 200)
        self.assertGreaterEqual(stats["throttled"] + stats["faults_injected"], 9)
        self.assertLessEqual(max(stats["max_in_flight"].values() or [0]), 4)

    def test_an_access_token_expiring_mid_sync_is_refreshed(self):
        world = self.signed_in_world(emulator_args=["--access-token-lifetime", "4"])
        self.wait_synced(world)
        time.sleep(6)  # the token the bridge holds has expired
        world.emulator.control("POST", f"/users/{S.USER}/deliver", message("after expiry of the token"))
        wait_until(lambda: "after expiry of the token" in self.messages(world), 20, "sync with a fresh token")
        self.assertNotIn("sync paused", world.bridge.output())


if __name__ == "__main__":
    import unittest
    unittest.main()

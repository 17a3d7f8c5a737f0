"""IMAP end to end: `mailtrixy serve` signed in to the emulator (standing in for Microsoft), driven
by Python's imaplib and curl over real TLS (implicit TLS on imap.tls_listen, STARTTLS on
imap.listen), every change checked on the Microsoft side through Graph.

Covers: the listeners' ports in the log; greeting and capabilities; LOGIN with the bridge password
and a wrong one; LIST/LSUB/NAMESPACE/ID/STATUS/SELECT/EXAMINE; FETCH of flags, sizes, envelope,
structure and bodies; SEARCH; STORE \\Seen and \\Flagged (-> isRead, flag); COPY; MOVE (-> message
in the target folder); APPEND (-> a non-draft message with the same MIME); CREATE/RENAME/DELETE;
EXPUNGE (-> Deleted Items); IDLE seeing new mail ("* N EXISTS") and a deletion on the Microsoft
side ("* N EXPUNGE") within the idle poll interval; curl over imaps://; BYE to connected clients
when the bridge stops.
"""

import email
import email.policy
import imaplib
import re
import subprocess
import time

from harness import TestCase
import imap_harness as H
import signin_harness as S


class ImapTest(TestCase):
    def world(self, **kwargs):
        return H.start_world(self, **kwargs)

    def test_imaplib_over_implicit_tls_every_command(self):
        world = self.world()
        client = world.imaps(login=False)
        self.assertIn(b"IMAP4rev1", client.welcome)
        typ, caps = client.capability()
        self.assertEqual(typ, "OK")
        for cap in ("IMAP4rev1", "LITERAL+", "SASL-IR", "AUTH=PLAIN", "ID", "ENABLE", "IDLE", "NAMESPACE",
                    "UNSELECT", "UIDPLUS", "MOVE", "SPECIAL-USE", "CHILDREN"):
            self.assertIn(cap, caps[0].decode().split(), caps)
        self.assertNotIn("STARTTLS", caps[0].decode().split())  # already encrypted
        with self.assertRaises(imaplib.IMAP4.error):
            client.login(S.USER, "not-the-bridge-password")
        client.login(S.USER, world.password)

        typ, data = client.list()
        self.assertEqual(typ, "OK")
        listing = b"\n".join(data).decode()
        self.assertRegex(listing, r'"/" "?INBOX"?\n')
        self.assertRegex(listing, r"\\Sent[^\n]*Sent Items")
        self.assertRegex(listing, r"\\Trash[^\n]*Deleted Items")
        self.assertIn("Projects", listing)
        self.assertEqual(client.lsub()[0], "OK")
        self.assertEqual(client.namespace()[0], "OK")
        typ, data = client.xatom("ID", '("name" "imaplib")')
        self.assertEqual(typ, "OK")
        typ, data = client.status("INBOX", "(MESSAGES UNSEEN UIDNEXT UIDVALIDITY)")
        self.assertEqual(typ, "OK")
        self.assertRegex(data[0].decode(), r"MESSAGES 3 .*UNSEEN 3")

        typ, data = client.select("INBOX")
        self.assertEqual((typ, data[0]), ("OK", b"3"))
        typ, data = client.uid("FETCH", "1:*", "(UID FLAGS RFC822.SIZE INTERNALDATE ENVELOPE)")
        self.assertEqual(typ, "OK")
        self.assertEqual(len([d for d in data if d]), 3)
        self.assertIn(b'"inbox 1"', b" ".join(d if isinstance(d, bytes) else d[0] for d in data))
        typ, data = client.fetch("1", "(BODY.PEEK[])")
        self.assertEqual(typ, "OK")
        body = data[0][1]
        self.assertIn(b"Subject: inbox 1", body)
        typ, data = client.fetch("1", "(RFC822.SIZE)")
        size = int(re.search(rb"RFC822\.SIZE (\d+)", data[0]).group(1))
        self.assertEqual(size, len(body))  # RFC822.SIZE is exactly the length of BODY[]
        typ, data = client.fetch("1", "(BODYSTRUCTURE)")
        self.assertEqual(typ, "OK")
        self.assertIn(b'("TEXT" "PLAIN"', data[0].upper())
        typ, data = client.fetch("2", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        self.assertEqual(H.parse_fetch_subjects(data), ["inbox 2"])

        typ, data = client.search(None, "UNSEEN")
        self.assertEqual(data[0].split(), [b"1", b"2", b"3"])
        typ, data = client.uid("SEARCH", None, 'SUBJECT "inbox 3"')
        self.assertEqual(len(data[0].split()), 1)

        # STORE -> isRead and flag on the Microsoft side.
        self.assertEqual(client.store("1", "+FLAGS", "(\\Seen \\Flagged)")[0], "OK")
        H.wait_until(lambda: world.graph_messages("inbox")["inbox 1"]["isRead"], 15, "isRead on inbox 1")
        self.assertEqual(world.graph_messages("inbox")["inbox 1"]["flag"]["flagStatus"], "flagged")
        typ, data = client.search(None, "SEEN")
        self.assertEqual(data[0].split(), [b"1"])

        # COPY keeps the original, MOVE takes it away; both land in Projects.
        self.assertEqual(client.copy("2", "Projects")[0], "OK")
        typ, data = client.uid("MOVE", client.uid("SEARCH", None, 'SUBJECT "inbox 3"')[1][0].decode(), "Projects")
        self.assertEqual(typ, "OK")
        projects = world.graph_messages("Projects")
        self.assertIn("inbox 2", projects)
        self.assertIn("inbox 3", projects)
        inbox = world.graph_messages("inbox")
        self.assertIn("inbox 2", inbox)
        self.assertNotIn("inbox 3", inbox)

        # APPEND: a non-draft message with the same MIME.
        appended = H.message("appended here", body="Appended body.\r\n").encode()
        typ, data = client.append("INBOX", "(\\Seen)", None, appended)
        self.assertEqual(typ, "OK")
        self.assertIn(b"APPENDUID", data[0])
        graph_message = H.wait_until(lambda: world.graph_messages("inbox").get("appended here"), 15, "the appended message")
        self.assertFalse(graph_message["isDraft"])
        self.assertTrue(graph_message["isRead"])
        # Exchange re-renders stored MIME (header folding, quoting, transfer encoding), so "the
        # same MIME" means the same headers and the same decoded content.
        stored = email.message_from_bytes(world.graph_mime(graph_message["id"]), policy=email.policy.default)
        original = email.message_from_bytes(appended, policy=email.policy.default)
        for header in ("From", "To"):
            self.assertEqual([a.addr_spec for a in stored[header].addresses],
                             [a.addr_spec for a in original[header].addresses], header)
        for header in ("Subject", "Message-ID"):
            self.assertEqual(str(stored[header]), str(original[header]), header)
        self.assertEqual(stored["Date"].datetime, original["Date"].datetime)
        self.assertEqual(stored.get_content_type(), original.get_content_type())
        self.assertEqual(stored.get_content(), original.get_content())

        # CREATE / RENAME / DELETE.
        self.assertEqual(client.create("Receipts")[0], "OK")
        self.assertEqual(client.rename("Receipts", '"Receipts 2026"')[0], "OK")
        names = [m["displayName"] for m in world.graph("GET", "/me/mailFolders?$top=100")["value"]]
        self.assertIn("Receipts 2026", names)
        self.assertEqual(client.delete('"Receipts 2026"')[0], "OK")
        names = [m["displayName"] for m in world.graph("GET", "/me/mailFolders?$top=100")["value"]]
        self.assertNotIn("Receipts 2026", names)

        # \Deleted + EXPUNGE moves the message to Deleted Items.
        client.select("INBOX")
        uid = client.uid("SEARCH", None, 'SUBJECT "inbox 2"')[1][0].decode()
        self.assertEqual(client.uid("STORE", uid, "+FLAGS", "(\\Deleted)")[0], "OK")
        typ, data = client.expunge()
        self.assertEqual(typ, "OK")
        self.assertNotIn("inbox 2", world.graph_messages("inbox"))
        self.assertIn("inbox 2", world.graph_messages("deleteditems"))

        self.assertEqual(client.noop()[0], "OK")
        self.assertEqual(client.unselect()[0], "OK")
        typ, data = client.select("Projects", readonly=True)  # EXAMINE
        self.assertEqual(typ, "OK")
        self.assertEqual(client.check()[0], "OK")
        self.assertEqual(client.close()[0], "OK")
        self.assertEqual(client.logout()[0], "BYE")

    def test_starttls_on_the_plain_listener(self):
        world = self.world()
        client = H.imaplib.IMAP4("127.0.0.1", world.imap_port, timeout=30)
        self.assertIn("STARTTLS", client.capabilities)
        client.starttls(ssl_context=world.ssl_context())
        typ, caps = client.capability()
        self.assertNotIn("STARTTLS", caps[0].decode().split())
        client.login(S.USER, world.password)
        typ, data = client.select("INBOX", readonly=True)
        self.assertEqual((typ, data[0]), ("OK", b"3"))
        typ, data = client.fetch("1:3", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        self.assertEqual(sorted(H.parse_fetch_subjects(data)), ["inbox 1", "inbox 2", "inbox 3"])
        client.logout()

    def test_authenticate_plain_and_a_wrong_password(self):
        world = self.world()
        client = world.imaps(login=False)
        with self.assertRaises(imaplib.IMAP4.error) as failure:
            client.authenticate("PLAIN", lambda _: f"\0{S.USER}\0wrong-password".encode())
        self.assertIn("AUTHENTICATIONFAILED", str(failure.exception))
        client.logout()
        client = world.imaps(login=False)
        typ, _ = client.authenticate("PLAIN", lambda _: f"\0{S.USER}\0{world.password}".encode())
        self.assertEqual(typ, "OK")
        client.logout()

    def test_idle_sees_new_mail_and_deletions_from_microsoft(self):
        # Unwatched folders poll every 60 s here: only the selected/IDLE folder's 1 s
        # idle_poll_interval can bring the changes within the deadlines below.
        world = self.world(poll="60s")
        raw = H.RawImap(world.imaps_port, world.ssl_context())
        self.addCleanup(raw.close)
        self.assertIn("* OK", raw.greeting)
        self.assertEqual(raw.command("a", f'LOGIN "{S.USER}" "{world.password}"')[0], "OK")
        status, lines = raw.command("b", "SELECT INBOX")
        self.assertEqual(status, "OK")
        self.assertIn("* 3 EXISTS\r\n", lines)
        raw.send("c IDLE")
        raw.until(r"^\+ ")
        started = time.monotonic()
        world.deliver(H.message("pushed while idle"))
        raw.until(r"^\* 4 EXISTS", timeout=15)
        self.assertLess(time.monotonic() - started, 10)  # idle_poll_interval is 1 s

        target = world.graph_messages("inbox")["inbox 2"]["id"]
        world.graph("DELETE", f"/me/messages/{target}")
        started = time.monotonic()
        raw.until(r"^\* 2 EXPUNGE", timeout=15)
        self.assertLess(time.monotonic() - started, 10)
        raw.send("DONE")
        raw.until(r"^c OK")
        status, lines = raw.command("d", "FETCH 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        self.assertEqual(status, "OK")
        subjects = [l.strip() for l in lines if l.startswith("Subject:")]
        self.assertEqual(subjects, ["Subject: inbox 1", "Subject: inbox 3", "Subject: pushed while idle"])
        raw.command("e", "LOGOUT")

    def test_curl_lists_and_fetches_over_imaps(self):
        world = self.world()
        base = f"imaps://127.0.0.1:{world.imaps_port}"
        user = ["--user", f"{S.USER}:{world.password}", "--cacert", world.cert()]
        listing = subprocess.run(["curl", "--silent", "--show-error", "--max-time", "30", *user, base + "/"],
                                 capture_output=True, text=True, timeout=60)
        self.assertEqual(listing.returncode, 0, listing.stderr)
        self.assertIn("INBOX", listing.stdout)
        self.assertIn("Projects", listing.stdout)
        fetched = subprocess.run(["curl", "--silent", "--show-error", "--max-time", "30", *user,
                                  base + "/INBOX;UID=1"], capture_output=True, text=True, timeout=60)
        self.assertEqual(fetched.returncode, 0, fetched.stderr)
        self.assertIn("Subject: inbox 1", fetched.stdout)
        self.assertIn("Body of message 1.", fetched.stdout)
        search = subprocess.run(["curl", "--silent", "--show-error", "--max-time", "30", *user,
                                 base + "/INBOX?SUBJECT%20%22inbox%203%22"], capture_output=True, text=True, timeout=60)
        self.assertEqual(search.returncode, 0, search.stderr)
        self.assertRegex(search.stdout, r"\* SEARCH \d+")
        wrong = subprocess.run(["curl", "--silent", "--max-time", "30", "--user", f"{S.USER}:wrong",
                                "--cacert", world.cert(), base + "/"], capture_output=True, text=True, timeout=60)
        self.assertNotEqual(wrong.returncode, 0)

    def test_stopping_the_bridge_says_bye_to_connected_clients(self):
        world = self.world()
        raw = H.RawImap(world.imaps_port, world.ssl_context())
        self.addCleanup(raw.close)
        self.assertEqual(raw.command("a", f'LOGIN "{S.USER}" "{world.password}"')[0], "OK")
        raw.command("b", "SELECT INBOX")
        raw.send("c IDLE")
        raw.until(r"^\+ ")
        started = time.monotonic()
        code = world.stop_bridge()
        raw.until(r"^\* BYE", timeout=10)
        self.assertEqual(code, 0)
        self.assertLess(time.monotonic() - started, 8)
        self.assertIn("IMAP server stopped", world.bridge.output())

    def test_no_secret_reaches_the_log(self):
        world = self.world()
        client = world.imaps()
        client.select("INBOX")
        client.logout()
        world.stop_bridge()
        self.assertNotIn(world.password, world.bridge.output())


if __name__ == "__main__":
    import unittest
    unittest.main()

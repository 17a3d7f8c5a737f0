"""The outbound queue end to end: Python's smtplib submits to `mailtrixy serve`, which is signed in
to the emulator (standing in for Microsoft); the emulator's /_emulator/users/{email}/sent record is
what Microsoft would have sent.

Covers: To/Cc/Bcc and envelope-only recipients (and a header recipient outside the envelope that
must not receive it); 10 MB and 40 MB attachments arriving intact through upload sessions; Graph
answering 503 for two minutes (a timed emulator fault) and the message delivered after;
kill -9 of the bridge right after the 250 and right after Graph accepted the message, each
delivered exactly once after the restart; a permanently failing message bouncing into the Inbox as
a DSN; `mailtrixy queue list|retry|drop` next to the running bridge.

The tests skip themselves while this build's bridge has no SMTP listener.
"""

import base64
import email
import email.message
import email.policy
import imaplib
import os
import re
import smtplib
import socket
import ssl
import time

from harness import TestCase
import signin_harness as S

POLL = "2s"


def wait_until(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(0.3)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}; last: {last!r}")


class OutboxWorld(S.SignInWorld):
    backoff = ("1s", "3s")  # queue.backoff_initial, queue.backoff_max

    def write_config(self):
        path = super().write_config()
        with open(path, "a") as f:
            f.write(f"sync:\n  poll_interval: {POLL}\n  idle_poll_interval: 1s\n"
                    f"queue:\n  retry_for: 10m\n  backoff_initial: {self.backoff[0]}\n"
                    f"  backoff_max: {self.backoff[1]}\n")
        return path


class OutboxTest(TestCase):
    def setUp(self):
        super().setUp()
        self.world = None

    def tearDown(self):
        if self.world:
            self.world.close()
        super().tearDown()

    def start(self, emulator_args=(), smtp=True, backoff=None):
        if backoff:
            OutboxWorld.backoff = backoff
        try:
            self.world = OutboxWorld(self.home, emulator_args=emulator_args)
        finally:
            OutboxWorld.backoff = ("1s", "3s")
        self.world.start_bridge()
        page, _ = self.world.sign_in(self.world.browser())
        self.password = S.extract(r'<code id="bridge-password"[^>]*>([^<]+)</code>', page.text)
        if smtp:
            self.wait_for_smtp()

    def restart_bridge(self):
        self.world.start_bridge()
        self.wait_for_smtp()

    def wait_for_smtp(self):
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.world.smtp_port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.2)
        self.skipTest("this build's bridge does not listen for SMTP yet")

    def smtp(self):
        client = smtplib.SMTP("127.0.0.1", self.world.smtp_port, timeout=120)
        client.ehlo("tests.example")
        context = ssl.create_default_context(cafile=self.home.file("certs", "server.crt"))
        context.check_hostname = False
        client.starttls(context=context)
        client.ehlo("tests.example")
        client.login(S.USER, self.password)
        return client

    def submit(self, message, recipients):
        """Sends over SMTP; returns the queue id from "250 2.0.0 queued as <id>"."""
        client = self.smtp()
        try:
            client.mail(S.USER)
            for recipient in recipients:
                code, reply = client.rcpt(recipient)
                self.assertEqual(code, 250, reply)
            code, reply = client.data(message.encode() if isinstance(message, str) else message)
            self.assertEqual(code, 250, reply)
            text = reply.decode()
            self.assertIn("queued as", text)
            return text.split("queued as", 1)[1].strip().split()[0].strip("<>")
        finally:
            try:
                client.quit()
            except smtplib.SMTPException:
                pass

    def emu(self, method, path, body=None):
        """An emulator control call (/_emulator/PATH); the parsed JSON answer."""
        status, answer = self.world.emulator.control(method, "/" + path, body)
        self.assertLess(status, 300, answer)
        return answer

    def sent(self):
        return self.emu("GET", f"users/{S.USER}/sent")

    def sent_messages(self):
        return [email.message_from_bytes(base64.b64decode(item["mime_base64"]), policy=email.policy.default)
                for item in self.sent()]

    def queue_list(self):
        result = self.world.cli("queue", "list")
        self.assertEqual(result.returncode, 0, result.stderr)
        return result.stdout

    def wait_queue_empty(self, timeout=60):
        wait_until(lambda: "The queue is empty." in self.queue_list(), timeout, "an empty queue")

    # ---------------------------------------------------------------------------------------

    def test_envelope_recipients_and_bcc(self):
        self.start()
        message = (f"From: Alice <{S.USER}>\r\nTo: Bob <bob@example.com>, outsider@example.com\r\n"
                   "Cc: carol@example.com\r\nBcc: boss@example.com\r\nSubject: recipients\r\n\r\nhello\r\n")
        queue_id = self.submit(message, ["bob@example.com", "carol@example.com", "boss@example.com",
                                         "dave@example.com"])
        self.assertRegex(queue_id, r"^q[0-9a-f]{20}$")
        sent = wait_until(self.sent, 30, "the message at Microsoft")
        self.assertEqual(len(sent), 1)
        self.assertEqual(sorted(r.lower() for r in sent[0]["recipients"]),
                         ["bob@example.com", "boss@example.com", "carol@example.com", "dave@example.com"])
        parsed = self.sent_messages()[0]
        self.assertNotIn("outsider@example.com", str(parsed["To"]))
        self.assertIn("dave@example.com", str(parsed["Bcc"]))
        self.assertTrue(parsed["Message-ID"])
        self.wait_queue_empty()

    def test_large_attachments_arrive_intact(self):
        self.start()
        for size in (10 * 1024 * 1024, 40 * 1024 * 1024):
            payload = os.urandom(size)
            outgoing = email.message.EmailMessage()
            outgoing["From"] = S.USER
            outgoing["To"] = "bob@example.com"
            outgoing["Subject"] = f"attachment of {size} bytes"
            outgoing.set_content("see attached")
            outgoing.add_attachment(payload, maintype="application", subtype="octet-stream", filename="big.bin")
            self.submit(outgoing.as_bytes(policy=email.policy.SMTP), ["bob@example.com"])
            wait_until(lambda: any(m["Subject"] == f"attachment of {size} bytes" for m in self.sent_messages()),
                       180, f"the {size} byte message at Microsoft")
            arrived = [m for m in self.sent_messages() if m["Subject"] == f"attachment of {size} bytes"]
            self.assertEqual(len(arrived), 1)
            attachments = [part for part in arrived[0].iter_attachments()]
            self.assertEqual(len(attachments), 1)
            self.assertEqual(attachments[0].get_filename(), "big.bin")
            self.assertTrue(attachments[0].get_content() == payload, "the attachment changed on the way")
        stats = self.emu("GET", "stats")
        # Both went as draft + upload session + send (the emulator names createUploadSession's
        # route with {id} placeholders), none as a MIME sendMail.
        self.assertEqual(stats["by_route"].get("POST /me/messages/{id}/send"), 2, stats["by_route"])
        self.assertNotIn("POST /me/sendMail", stats["by_route"])

    def test_503_outage_then_delivered(self):
        self.start()
        outage = 120
        self.emu("POST", "faults", {"route": "sendMail", "status": 503, "seconds": outage, "retry_after": 1})
        started = time.monotonic()
        queue_id = self.submit(f"From: {S.USER}\r\nTo: bob@example.com\r\nSubject: outage\r\n\r\nx\r\n",
                               ["bob@example.com"])
        wait_until(lambda: queue_id in self.queue_list() and "503" in self.queue_list(), 60,
                   "the queue to show the 503")
        self.assertEqual(self.sent(), [])
        sent = wait_until(self.sent, outage + 120, "delivery after the outage")
        self.assertGreaterEqual(time.monotonic() - started, outage - 1)
        self.assertEqual(len(sent), 1)
        self.wait_queue_empty()

    def test_kill_right_after_250_delivers_once_after_restart(self):
        self.start()
        # Microsoft is unavailable, so the message is certainly still queued when the bridge dies.
        self.emu("POST", "faults",
                                    {"route": "sendMail", "status": 503, "count": 1000, "retry_after": 1})
        queue_id = self.submit(f"From: {S.USER}\r\nTo: bob@example.com\r\nSubject: after 250\r\n\r\nx\r\n",
                               ["bob@example.com"])
        self.world.bridge.kill()
        self.assertIn(queue_id, self.queue_list())
        self.emu("DELETE", "faults")
        self.restart_bridge()
        sent = wait_until(self.sent, 60, "delivery after the restart")
        self.wait_queue_empty()
        time.sleep(2)
        self.assertEqual(len(self.sent()), 1)
        self.assertEqual(len(sent), 1)

    def test_kill_right_after_graph_accepted_does_not_send_twice(self):
        # Every Graph answer is 4 s late: the emulator has sent the message well before the bridge
        # hears the 202, and the bridge is killed in between.
        self.start(emulator_args=["--latency", "4000"])
        queue_id = self.submit(f"From: {S.USER}\r\nTo: bob@example.com\r\nSubject: accepted\r\n\r\nx\r\n",
                               ["bob@example.com"])
        wait_until(self.sent, 60, "Microsoft to take the message")
        self.world.bridge.kill()
        listed = self.queue_list()
        self.assertIn(queue_id, listed)
        self.assertIn("sending", listed)
        self.restart_bridge()
        self.world.bridge.wait_for_log(r"found in Sent Items; not sending it again", timeout=90)
        self.wait_queue_empty()
        self.assertEqual(len(self.sent()), 1)

    def test_permanent_failure_bounces_into_the_inbox(self):
        self.start()
        self.emu("POST", "faults", {"route": "sendMail", "status": 403, "count": 1,
                                                       "code": "ErrorSendAsDenied",
                                                       "message": "The user account which was used to submit this request does not have the right to send mail on behalf of the specified sending account."})
        queue_id = self.submit(f"From: {S.USER}\r\nTo: bob@example.com\r\nSubject: doomed\r\n\r\nx\r\n",
                               ["bob@example.com"])
        self.wait_queue_empty()
        self.assertEqual(self.sent(), [])
        inbox = wait_until(lambda: "Undelivered Mail Returned to Sender" in
                           self.world.cli("mailbox", "messages", S.USER, "INBOX").stdout and
                           self.world.cli("mailbox", "messages", S.USER, "INBOX").stdout, 60, "the bounce in the Inbox")
        self.assertIn("Undelivered Mail Returned to Sender", inbox)
        self.assertIn(queue_id, self.world.bridge.output())

    def test_queue_commands_next_to_the_running_bridge(self):
        # After a failed attempt (8 answers 503, one GraphClient call) a message waits 30 s.
        self.start(backoff=("30s", "30s"))
        self.emu("POST", "faults",
                                    {"route": "sendMail", "status": 503, "count": 1000, "retry_after": 1})
        first = self.submit(f"From: {S.USER}\r\nTo: bob@example.com\r\nSubject: first\r\n\r\nx\r\n",
                            ["bob@example.com"])
        second = self.submit(f"From: {S.USER}\r\nTo: bob@example.com\r\nSubject: second\r\n\r\nx\r\n",
                             ["bob@example.com"])
        listed = self.queue_list()
        self.assertIn(first, listed)
        self.assertIn(second, listed)
        bad = self.world.cli("queue", "drop", "not-an-id")
        self.assertEqual(bad.returncode, 2)
        unknown = self.world.cli("queue", "drop", "q0123456789abcdef0123")
        self.assertEqual(unknown.returncode, 1)
        self.assertIn("No queued message has the id", unknown.stderr)

        def dropped():
            result = self.world.cli("queue", "drop", second)
            return result.returncode == 0 and result
        wait_until(dropped, 60, "drop to succeed between attempts")
        self.assertNotIn(second, self.queue_list())
        self.emu("DELETE", "faults")
        retried = self.world.cli("queue", "retry", first)
        self.assertIn(retried.returncode, (0, 1), retried.stderr)
        wait_until(self.sent, 60, "the retried message")
        self.wait_queue_empty()
        subjects = [str(m["Subject"]) for m in self.sent_messages()]
        self.assertEqual(subjects, ["first"])

    def test_queue_commands_with_and_without_a_running_bridge(self):
        self.start(smtp=False)
        self.assertIn("The queue is empty.", self.queue_list())
        # Through the running bridge's control endpoint.
        unknown = self.world.cli("queue", "retry", "q0123456789abcdef0123")
        self.assertEqual(unknown.returncode, 1, unknown.stdout)
        self.assertIn("No queued message has the id q0123456789abcdef0123", unknown.stderr)
        usage = self.world.cli("queue", "retry")
        self.assertEqual(usage.returncode, 2)
        self.assertIn("needs one queue id", usage.stderr)
        self.assertEqual(self.world.cli("queue", "frobnicate").returncode, 2)
        # With the bridge stopped, on the database directly.
        self.assertEqual(self.world.stop_bridge(), 0)
        self.assertIn("The queue is empty.", self.queue_list())
        unknown = self.world.cli("queue", "drop", "q0123456789abcdef0123")
        self.assertEqual(unknown.returncode, 1)
        self.assertIn("No queued message has the id", unknown.stderr)

    def test_the_clients_own_copy_in_sent_is_not_a_second_one(self):
        self.start()
        message = (f"From: {S.USER}\r\nTo: bob@example.com\r\nSubject: one copy\r\n"
                   "Message-ID: <one-copy@outlook.example>\r\n\r\nhello\r\n")
        self.submit(message, ["bob@example.com"])
        wait_until(self.sent, 30, "the message at Microsoft")
        self.wait_queue_empty()
        imap = imaplib.IMAP4("127.0.0.1", self.world.imap_port)
        try:
            imap.login(S.USER, self.password)
            # What Thunderbird does after the 250: APPEND its copy to the Sent folder.
            status, answer = imap.append('"Sent Items"', "(\\Seen)", None, message.encode())
            self.assertEqual(status, "OK", answer)
            appended_uid = re.search(rb"APPENDUID \d+ (\d+)", answer[0]).group(1).decode()
            status, _ = imap.select('"Sent Items"')
            self.assertEqual(status, "OK")
            status, found = imap.uid("SEARCH", None, "ALL")
            self.assertEqual(status, "OK")
            self.assertEqual(found[0].decode().split(), [appended_uid], "Sent Items holds exactly one copy")
            self.world.bridge.wait_for_log(r"APPEND of a message the queue sent answered with Microsoft's")
            # Still one after more sync rounds: nothing was created on the Microsoft side either.
            time.sleep(5)
            imap.noop()
            status, found = imap.uid("SEARCH", None, "ALL")
            self.assertEqual(found[0].decode().split(), [appended_uid])
        finally:
            try:
                imap.logout()
            except imaplib.IMAP4.error:
                pass

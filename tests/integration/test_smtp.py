"""SMTP submission end to end: `mailtrixy serve` signed in to the emulator (standing in for
Microsoft), driven over TLS by real clients — Python's smtplib, swaks, curl and msmtp — and by a
raw socket for what clients do not produce on demand (a whole transaction pipelined in one write,
dot-stuffed lines, bare LF, an oversize stream).

What is checked on the wire: STARTTLS on the plain listener and implicit TLS, AUTH PLAIN and
LOGIN with the bridge password, a wrong password (535 5.7.8), a sender that is not the account
(553 5.7.1), SMTPUTF8 and 8-bit mail, SIZE over the limit (552 at MAIL, before any data) and an
oversize DATA (552 after the final dot, the session still usable), pipelined replies in order,
and the 421 at shutdown.

What is checked on Microsoft's side (the emulator's /_emulator/users/{email}/sent, filled once
the outbox delivered): every RCPT TO received the message, including envelope-only recipients
(added as Bcc), and a header recipient outside the envelope did not; the stored MIME has the
lines dot-unstuffed and CRLF-terminated.
"""

import base64
import os
import shutil
import smtplib
import socket
import ssl
import subprocess
import time
import unittest
import uuid

from harness import TempHome
import client_configs
import signin_harness as S

MAX_MESSAGE_BYTES = 300_000


def wait_until(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(0.3)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}; last: {last!r}")


class SmtpWorld(S.SignInWorld):
    """A SignInWorld whose bridge also listens with implicit TLS and has a small size limit."""

    def __init__(self, home, **kwargs):
        self.smtp_tls_port = S.free_port()
        super().__init__(home, **kwargs)

    def write_config(self):
        path = super().write_config()
        with open(path) as f:
            text = f.read()
        smtp_block = f"  listen: 127.0.0.1:{self.smtp_port}\n  tls_listen: \"\"\n"
        assert smtp_block in text, text
        text = text.replace(smtp_block, f"  listen: 127.0.0.1:{self.smtp_port}\n"
                                         f"  tls_listen: 127.0.0.1:{self.smtp_tls_port}\n"
                                         f"  max_message_bytes: {MAX_MESSAGE_BYTES}\n")
        with open(path, "w") as f:
            f.write(text)
        return path


def signed_in_world(home):
    world = SmtpWorld(home)
    try:
        world.start_bridge()
        page, _ = world.sign_in(world.browser())
        assert page.status == 200, page.text
        password = S.extract(r'<code id="bridge-password"[^>]*>([^<]+)</code>', page.text)
        world.bridge.wait_for_log(r"smtp listening\W.*" + str(world.smtp_port))
        world.bridge.wait_for_log(r"smtp listening\W.*" + str(world.smtp_tls_port))
        return world, password
    except BaseException:
        world.close()
        raise


class TlsLine:
    """A raw SMTP client over implicit TLS: sends bytes as given, reads whole replies."""

    def __init__(self, port, context):
        raw = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.sock = context.wrap_socket(raw, server_hostname="127.0.0.1")
        self.buffer = b""

    def send(self, data):
        self.sock.sendall(data if isinstance(data, bytes) else data.encode())

    def reply(self):
        """One reply as a list of lines (str, without CRLF)."""
        lines = []
        while True:
            while b"\r\n" not in self.buffer:
                chunk = self.sock.recv(65536)
                if not chunk:
                    raise AssertionError(f"connection closed; got so far: {lines!r}")
                self.buffer += chunk
            line, self.buffer = self.buffer.split(b"\r\n", 1)
            lines.append(line.decode("utf-8", "replace"))
            if len(line) >= 4 and line[3:4] == b" ":
                return lines

    def close(self):
        self.sock.close()


class SmtpTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.home = TempHome()
        try:
            cls.world, cls.password = signed_in_world(cls.home)
        except BaseException:
            cls.home.cleanup()
            raise
        cls.cert = cls.home.file("certs", "server.crt")
        cls.context = ssl.create_default_context(cafile=cls.cert)

    @classmethod
    def tearDownClass(cls):
        try:
            cls.world.close()
            # Every test above sent the bridge password (PLAIN, LOGIN, base64 or not): none may log it.
            output = cls.world.bridge.output()
            encoded = base64.b64encode(cls.password.encode()).decode()
            for secret in (cls.password, encoded):
                if secret in output:
                    raise AssertionError("the bridge password reached the bridge's log")
        finally:
            cls.home.cleanup()

    # ---- helpers ------------------------------------------------------------------------------

    def token(self):
        return "t" + uuid.uuid4().hex[:12]

    def message(self, token, to="bob@example.com", cc=None, bcc=None, body="Hello from the test.\r\n",
                subject=None):
        headers = [f"From: Alice <{S.USER}>", f"To: {to}"]
        if cc:
            headers.append(f"Cc: {cc}")
        if bcc:
            headers.append(f"Bcc: {bcc}")
        headers += [f"Subject: {subject or token}", f"Message-ID: <{token}@test.example>",
                    "Date: Mon, 02 Mar 2026 10:00:00 +0000", "MIME-Version: 1.0",
                    "Content-Type: text/plain; charset=utf-8"]
        return "\r\n".join(headers) + "\r\n\r\n" + body

    def smtp_starttls(self):
        client = smtplib.SMTP("127.0.0.1", self.world.smtp_port, timeout=60)
        self.addCleanup(client.close)
        code, _ = client.ehlo("test.example")
        self.assertEqual(code, 250)
        self.assertTrue(client.has_extn("starttls"))
        code, _ = client.starttls(context=self.context)
        self.assertEqual(code, 220)
        client.ehlo("test.example")
        return client

    def sent(self):
        status, records = self.world.emulator.control("GET", f"/users/{S.USER}/sent")
        self.assertEqual(status, 200)
        return [(record["recipients"], base64.b64decode(record["mime_base64"])) for record in records]

    def wait_sent(self, token, timeout=60):
        """The (recipients, mime bytes) of the message whose MIME holds `token`, once delivered."""
        def find():
            for recipients, mime in self.sent():
                if token.encode() in mime:
                    return recipients, mime
            return None
        return wait_until(find, timeout, f"the message {token} in the emulator's sent records")

    def assert_queued(self, reply):
        code, text = reply
        self.assertEqual(code, 250, text)
        self.assertRegex(text.decode() if isinstance(text, bytes) else text, r"^2\.0\.0 Ok: queued as q[0-9a-f]+$")

    # ---- recipients ---------------------------------------------------------------------------

    def test_starttls_plain_auth_every_envelope_recipient_and_no_other(self):
        client = self.smtp_starttls()
        self.assertIn("PLAIN", client.esmtp_features["auth"])
        self.assertIn("LOGIN", client.esmtp_features["auth"])
        code, _ = client.login(S.USER, self.password)
        self.assertEqual(code, 235)
        token = self.token()
        # frank is named in Cc but not in the envelope; erin is only in the envelope.
        text = self.message(token, to="Bob <bob@example.com>", cc="carol@example.com, Frank <frank@example.com>",
                            bcc="dave@example.com")
        envelope = ["bob@example.com", "carol@example.com", "dave@example.com", "erin@example.com"]
        self.assertEqual(client.mail(S.USER)[0], 250)
        for rcpt in envelope:
            self.assertEqual(client.rcpt(rcpt)[0], 250, rcpt)
        self.assert_queued(client.data(text.encode()))
        client.quit()

        recipients, mime = self.wait_sent(token)
        self.assertEqual(sorted(address.lower() for address in recipients), envelope)
        self.assertNotIn("frank@example.com", [address.lower() for address in recipients])

    def test_implicit_tls_auth_login(self):
        client = smtplib.SMTP_SSL("127.0.0.1", self.world.smtp_tls_port, timeout=60, context=self.context)
        self.addCleanup(client.close)
        client.ehlo("test.example")
        self.assertFalse(client.has_extn("starttls"))
        client.user, client.password = S.USER, self.password
        code, _ = client.auth("LOGIN", client.auth_login, initial_response_ok=False)
        self.assertEqual(code, 235)
        token = self.token()
        self.assertEqual(client.mail(S.USER.upper())[0], 250)  # the address compares case-insensitively
        self.assertEqual(client.rcpt("bob@example.com")[0], 250)
        self.assert_queued(client.data(self.message(token).encode()))
        recipients, _ = self.wait_sent(token)
        self.assertEqual([address.lower() for address in recipients], ["bob@example.com"])

    def test_wrong_password_and_wrong_sender_are_refused(self):
        client = self.smtp_starttls()
        with self.assertRaises(smtplib.SMTPAuthenticationError) as refused:
            client.login(S.USER, "not-the-bridge-password")
        self.assertEqual(refused.exception.smtp_code, 535)
        self.assertTrue(refused.exception.smtp_error.startswith(b"5.7.8 "))

        client = self.smtp_starttls()
        client.login(S.USER, self.password)
        code, text = client.mail("mallory@example.com")
        self.assertEqual(code, 553)
        self.assertTrue(text.startswith(b"5.7.1 "), text)
        self.assertIn(S.USER.encode(), text)  # names the address to use
        code, _ = client.mail("")
        self.assertEqual(code, 553)

    def test_mail_before_auth_is_refused(self):
        client = self.smtp_starttls()
        code, text = client.mail(S.USER)
        self.assertEqual(code, 530)
        self.assertTrue(text.startswith(b"5.7.0 "), text)

    # ---- pipelining, dot-stuffing, bare LF --------------------------------------------------------

    def test_pipelined_transaction_with_dot_stuffing_and_bare_lf(self):
        line = TlsLine(self.world.smtp_tls_port, self.context)
        self.addCleanup(line.close)
        self.assertTrue(line.reply()[0].startswith("220 "))
        line.send("EHLO pipeliner\r\n")
        self.assertIn("250-PIPELINING", line.reply())
        credentials = base64.b64encode(b"\0" + S.USER.encode() + b"\0" + self.password.encode()).decode()
        line.send(f"AUTH PLAIN {credentials}\r\n")
        self.assertEqual(line.reply(), ["235 2.7.0 Authentication successful"])

        token = self.token()
        body = ("first line\r\n"
                "..starts with one dot\r\n"
                "...starts with two dots\r\n"
                "bare lf line\n"
                ". a dot and a space\r\n"
                "last line\r\n")
        line.send(f"MAIL FROM:<{S.USER}>\r\nRCPT TO:<bob@example.com>\r\nRCPT TO:<not an address>\r\n"
                  f"RCPT TO:<carol@example.com>\r\nDATA\r\n" + self.message(token, body=body) +
                  ".\r\nNOOP\r\nQUIT\r\n")
        replies = [line.reply() for _ in range(8)]
        self.assertEqual(replies[0], ["250 2.1.0 Sender ok"])
        self.assertEqual(replies[1], ["250 2.1.5 Recipient ok"])
        self.assertTrue(replies[2][0].startswith("501 5.1.3 "), replies[2])
        self.assertEqual(replies[3], ["250 2.1.5 Recipient ok"])
        self.assertTrue(replies[4][0].startswith("354 "), replies[4])
        self.assertRegex(replies[5][0], r"^250 2\.0\.0 Ok: queued as q[0-9a-f]+$")
        self.assertEqual(replies[6], ["250 2.0.0 Ok"])
        self.assertEqual(replies[7], ["221 2.0.0 Bye"])

        recipients, mime = self.wait_sent(token)
        self.assertEqual(sorted(address.lower() for address in recipients), ["bob@example.com", "carol@example.com"])
        # Unstuffed: one leading dot less on every line that had one; bare LF became CRLF.
        self.assertIn(b"\r\nfirst line\r\n.starts with one dot\r\n..starts with two dots\r\nbare lf line\r\n"
                      b" a dot and a space\r\nlast line\r\n", mime)
        self.assertNotIn(b"\n..starts with one dot", mime)

    # ---- 8-bit and SMTPUTF8 ---------------------------------------------------------------------

    def test_smtputf8_and_8bitmime(self):
        client = self.smtp_starttls()
        self.assertTrue(client.has_extn("smtputf8"))
        self.assertTrue(client.has_extn("8bitmime"))
        client.login(S.USER, self.password)
        token = self.token()
        recipient = "jürgen.müller@example.com"
        self.assertEqual(client.mail(S.USER, ["SMTPUTF8", "BODY=8BITMIME"])[0], 250)
        self.assertEqual(client.rcpt(recipient)[0], 250)
        message = self.message(token, to=recipient, subject=f"Grüße {token}", body="Schöne Grüße aus Köln.\r\n")
        self.assert_queued(client.data(message.encode("utf-8")))
        recipients, mime = self.wait_sent(token)
        self.assertEqual(recipients, [recipient])
        self.assertIn("Schöne Grüße aus Köln.".encode("utf-8"), mime)

    def test_utf8_address_without_smtputf8_is_refused(self):
        line = TlsLine(self.world.smtp_tls_port, self.context)
        self.addCleanup(line.close)
        line.reply()
        credentials = base64.b64encode(b"\0" + S.USER.encode() + b"\0" + self.password.encode()).decode()
        line.send(f"EHLO x\r\nAUTH PLAIN {credentials}\r\n")
        line.reply()
        line.reply()
        line.send(f"MAIL FROM:<{S.USER}>\r\n".encode() + "RCPT TO:<jürgen@example.com>\r\n".encode("utf-8"))
        self.assertEqual(line.reply(), ["250 2.1.0 Sender ok"])
        self.assertTrue(line.reply()[0].startswith("553 5.6.7 "))

    # ---- size limit -----------------------------------------------------------------------------

    def test_declared_size_over_the_limit_is_refused_at_mail(self):
        client = self.smtp_starttls()
        client.login(S.USER, self.password)
        code, text = client.mail(S.USER, [f"SIZE={MAX_MESSAGE_BYTES + 1}"])
        self.assertEqual(code, 552)
        self.assertTrue(text.startswith(b"5.3.4 "), text)
        self.assertIn(str(MAX_MESSAGE_BYTES).encode(), text)

    def test_oversize_data_gets_552_after_the_final_dot_and_the_session_goes_on(self):
        line = TlsLine(self.world.smtp_tls_port, self.context)
        self.addCleanup(line.close)
        line.reply()
        credentials = base64.b64encode(b"\0" + S.USER.encode() + b"\0" + self.password.encode()).decode()
        line.send(f"EHLO x\r\nAUTH PLAIN {credentials}\r\n")
        line.reply()
        line.reply()
        token = self.token()
        line.send(f"MAIL FROM:<{S.USER}>\r\nRCPT TO:<bob@example.com>\r\nDATA\r\n")
        self.assertEqual(line.reply()[0][:3], "250")
        self.assertEqual(line.reply()[0][:3], "250")
        self.assertEqual(line.reply()[0][:3], "354")
        line.send(self.message(token, body=("x" * 998 + "\r\n") * (2 * MAX_MESSAGE_BYTES // 1000)) + ".\r\n")
        self.assertTrue(line.reply()[0].startswith("552 5.3.4 "))
        line.send("NOOP\r\n")
        self.assertEqual(line.reply(), ["250 2.0.0 Ok"])
        time.sleep(2)
        self.assertFalse(any(token.encode() in mime for _, mime in self.sent()))

    # ---- other real clients ---------------------------------------------------------------------

    def write_message_file(self, token):
        path = self.home.file(f"{token}.eml")
        with open(path, "w", newline="") as f:
            f.write(self.message(token, to="bob@example.com"))
        return path

    @unittest.skipUnless(shutil.which("swaks"), "swaks is not installed (scripts/deps.sh)")
    def test_swaks_starttls_plain_and_implicit_tls_login(self):
        for mode, port, auth in (("--tls", self.world.smtp_port, "PLAIN"),
                                 ("--tls-on-connect", self.world.smtp_tls_port, "LOGIN")):
            token = self.token()
            result = subprocess.run(
                ["swaks", "--server", "127.0.0.1", "--port", str(port), mode, "--auth", auth,
                 "--auth-user", S.USER, "--auth-password", self.password, "--from", S.USER,
                 "--to", "bob@example.com,erin@example.com", "--header", f"Subject: swaks {token}",
                 "--header", "To: bob@example.com", "--body", f"sent by swaks {token}", "--timeout", "60"],
                capture_output=True, text=True, timeout=120)
            self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
            self.assertRegex(result.stdout, r"<~\s+250 2\.0\.0 Ok: queued as q[0-9a-f]+")
            self.assertRegex(result.stdout, r"<~\s+235 2\.7\.0 Authentication successful")
            recipients, _ = self.wait_sent(token)
            self.assertEqual(sorted(address.lower() for address in recipients), ["bob@example.com", "erin@example.com"])

    @unittest.skipUnless(shutil.which("curl"), "curl is not installed")
    def test_curl_starttls_and_smtps(self):
        for url, extra in ((f"smtp://127.0.0.1:{self.world.smtp_port}", ["--ssl-reqd"]),
                           (f"smtps://127.0.0.1:{self.world.smtp_tls_port}", [])):
            token = self.token()
            result = subprocess.run(
                ["curl", "--silent", "--show-error", "--max-time", "60", url, *extra, "--cacert", self.cert,
                 "--user", f"{S.USER}:{self.password}", "--mail-from", S.USER, "--mail-rcpt", "bob@example.com",
                 "--upload-file", self.write_message_file(token)],
                capture_output=True, text=True, timeout=120)
            self.assertEqual(result.returncode, 0, result.stderr)
            recipients, _ = self.wait_sent(token)
            self.assertEqual([address.lower() for address in recipients], ["bob@example.com"])

    @unittest.skipUnless(shutil.which("msmtp"), "msmtp is not installed (scripts/deps.sh)")
    def test_msmtp_starttls(self):
        # docs/clients/msmtprc, the file docs/clients.md shows, with its placeholders filled in.
        config = self.home.file("msmtprc")
        with open(config, "w") as f:
            f.write(client_configs.render("msmtprc", {
                "port 1587": f"port {self.world.smtp_port}",
                "you@outlook.com": S.USER,
                "~/.mailtrixy-password": client_configs.write_password_file(self.home.file("password"),
                                                                            self.password),
                "~/.mailtrixy/server.crt": self.cert,
            }))
        os.chmod(config, 0o600)
        token = self.token()
        with open(self.write_message_file(token), "rb") as message:
            result = subprocess.run(
                ["msmtp", f"--file={config}", "--account=mailtrixy", "bob@example.com", "dave@example.com"],
                stdin=message, capture_output=True, timeout=120)
        self.assertEqual(result.returncode, 0, (result.stdout + result.stderr).decode(errors="replace"))
        recipients, _ = self.wait_sent(token)
        self.assertEqual(sorted(address.lower() for address in recipients), ["bob@example.com", "dave@example.com"])


class SmtpShutdownTest(unittest.TestCase):
    def test_connected_clients_get_421_at_shutdown(self):
        home = TempHome()
        self.addCleanup(home.cleanup)
        world, _ = signed_in_world(home)
        self.addCleanup(world.close)
        context = ssl.create_default_context(cafile=home.file("certs", "server.crt"))
        line = TlsLine(world.smtp_tls_port, context)
        self.addCleanup(line.close)
        self.assertTrue(line.reply()[0].startswith("220 "))
        line.send("EHLO x\r\n")
        line.reply()
        self.assertEqual(world.stop_bridge(), 0, world.bridge.output())
        self.assertEqual(line.reply(), ["421 4.3.2 Service shutting down"])


if __name__ == "__main__":
    unittest.main()

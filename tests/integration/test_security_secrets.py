"""Secrets stay secret (docs/security.md, "Local users" and "Logs"): a full scenario at log level
debug, in the text and the JSON log format, then no access token, refresh token, authorization
code, client secret, bridge password, admin password, session id or master key appears in the
bridge's output or, in plaintext, in any file under data_dir (the raw RocksDB .sst/.log files
included). The same run checks the process hardening: core dumps off, files 0600, dirs 0700.

The PKCE verifier is not checked here: only the bridge ever knows it (the emulator keeps just the
challenge), so a black-box test cannot name it. It lives in the same encrypted sign-in record
as the state, which the raw-file scan covers as a whole.
"""

import base64
import imaplib
import os
import smtplib
import stat
import subprocess
import time
import unittest
import urllib.parse

import harness
import imap_harness as I
import signin_harness as S

# What the YAML says before the admin replaces it: the bridge must not print it either.
CONFIG_SECRET = "Wr0ngQ~cOnFiGsEcReT.vAlUe-1111111111aaaaaaZZ"


class SecretsWorld(I.ImapWorld):
    def __init__(self, home, log_format, **kwargs):
        self.log_format = log_format
        super().__init__(home, secret=CONFIG_SECRET, **kwargs)

    def write_config(self):
        path = super().write_config()
        with open(path) as f:
            text = f.read()
        assert "log:\n  level: debug\n" in text, text
        text = text.replace("log:\n  level: debug\n", f"log:\n  level: debug\n  format: {self.log_format}\n")
        with open(path, "w") as f:
            f.write(text)
        return path


class SecretsTest(unittest.TestCase):
    def setUp(self):
        self.home = harness.TempHome()
        self.addCleanup(self.home.cleanup)

    def run_scenario(self, log_format):
        """Runs everything that handles a secret; returns (world, {name: secret value})."""
        seed = I.seed(self.home, inbox=2, projects=0)
        world = SecretsWorld(self.home, log_format,
                             emulator_args=["--access-token-lifetime", "2", "--seed", f"{S.USER}={seed}"])
        self.addCleanup(world.close)
        bridge = world.start_bridge()
        secrets = {"client secret": S.CLIENT_SECRET, "client secret in YAML": CONFIG_SECRET,
                   "admin password": S.ADMIN_PASSWORD}

        # Core dumps are off for the whole life of the process.
        with open(f"/proc/{bridge.process.pid}/limits") as f:
            limits = f.read()
        core = [line for line in limits.splitlines() if line.startswith("Max core file size")]
        self.assertEqual(core[0].split()[4:6], ["0", "0"], limits)

        # The admin signs in and saves the client secret the emulator knows.
        admin = world.browser()
        form = admin.get(world.public_url + "/admin/login")
        signed_in = admin.post(world.public_url + "/admin/login",
                               {"username": "admin", "password": S.ADMIN_PASSWORD, "csrf_token": S.csrf_token(form.text)},
                               headers={"Origin": world.public_url})
        self.assertEqual(signed_in.status, 303, signed_in.text)
        page = admin.get(world.public_url + "/admin/settings/integrations")
        saved = admin.post(world.public_url + "/admin/settings/integrations",
                           {"client_id": S.CLIENT_ID, "client_secret": S.CLIENT_SECRET,
                            "csrf_token": S.csrf_token(page.text)},
                           headers={"Origin": world.public_url})
        self.assertEqual(saved.status, 303, saved.text)
        secrets["admin session id"] = admin.cookies()["__Host-mailtrixy_session"].value

        # The user signs in; the authorization code travels in the callback URL.
        browser = world.browser()
        success, callback_url = world.sign_in(browser)
        self.assertEqual(success.status, 200, success.text)
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(callback_url).query)
        secrets["authorization code"] = query["code"][0]
        password = S.extract(I.PASSWORD_RE, success.text)
        secrets["bridge password"] = password
        secrets["user session id"] = browser.cookies()["__Host-mailtrixy_session"].value
        world.password = password
        world.imap_port = int(bridge.wait_for_log(r"imap listening\W.*?address\W+127\.0\.0\.1:(\d+)").group(1))
        world.imaps_port = int(bridge.wait_for_log(r"imaps listening\W.*?address\W+127\.0\.0\.1:(\d+)").group(1))
        world.wait_for_messages("INBOX", 2)

        # IMAP LOGIN, AUTHENTICATE PLAIN and FETCH.
        client = world.imaps()
        client.select("INBOX")
        typ, data = client.fetch("1:*", "(BODY.PEEK[])")
        self.assertEqual(typ, "OK")
        client.logout()
        client = imaplib.IMAP4_SSL("127.0.0.1", world.imaps_port, ssl_context=world.ssl_context(), timeout=30)
        client.authenticate("PLAIN", lambda _: f"\0{S.USER}\0{password}".encode())
        client.logout()

        # SMTP AUTH and a send through the outbox to Graph.
        smtp = smtplib.SMTP("127.0.0.1", world.smtp_port, timeout=30)
        smtp.starttls(context=world.ssl_context())
        smtp.login(S.USER, password)
        smtp.sendmail(S.USER, ["dave@example.com"],
                      f"From: {S.USER}\r\nTo: dave@example.com\r\nSubject: secret scan\r\n\r\nhello\r\n")
        smtp.quit()
        I.wait_until(lambda: world.emulator.control("GET", f"/users/{S.USER}/sent")[1], 30, "the message sent")

        # The 2-second access token is refreshed at least twice.
        def access_tokens():
            return [t for t in world.emulator.control("GET", "/tokens")[1]["access_tokens"] if t["user"] == S.USER]
        I.wait_until(lambda: len(access_tokens()) >= 3, 30, "two token refreshes")
        client = world.imaps()  # and the mailbox still works with the refreshed token
        client.select("INBOX")
        client.logout()

        tokens = world.emulator.control("GET", "/tokens")[1]
        for i, token in enumerate(tokens["access_tokens"]):
            secrets[f"access token {i}"] = token["token"]
        for i, token in enumerate(tokens["refresh_tokens"]):
            secrets[f"refresh token {i}"] = token["token"]
        self.assertGreaterEqual(len(tokens["refresh_tokens"]), 1)
        with open(os.path.join(world.data_dir(), "master.key"), "rb") as f:
            master_key = f.read()
        self.assertEqual(world.stop_bridge(), 0)
        return world, secrets, master_key

    def assert_secrets_nowhere(self, world, secrets, master_key):
        output = world.bridge.output()
        self.assertIn("imap login", output)  # the debug log really ran
        for name, value in secrets.items():
            self.assertGreaterEqual(len(value), 8, name)
            self.assertNotIn(value, output, f"the {name} appears in the bridge's log")
        key_forms = [master_key.hex(), base64.b64encode(master_key).decode(),
                     base64.urlsafe_b64encode(master_key).decode().rstrip("=")]
        for form in key_forms:
            self.assertNotIn(form, output, "the master key appears in the bridge's log")

        scanned = 0
        for root, _, files in os.walk(world.data_dir()):
            for name in files:
                path = os.path.join(root, name)
                with open(path, "rb") as f:
                    content = f.read()
                scanned += 1
                for secret_name, value in secrets.items():
                    self.assertNotIn(value.encode(), content, f"the {secret_name} is in plaintext in {path}")
                if name != "master.key":
                    self.assertNotIn(master_key, content, f"the master key is in {path}")
                    for form in key_forms:
                        self.assertNotIn(form.encode(), content, f"the master key is in {path}")
        names = [n for _, _, files in os.walk(world.data_dir()) for n in files]
        self.assertTrue(any(n.endswith(".log") for n in names) or any(n.endswith(".sst") for n in names), names)
        self.assertGreater(scanned, 3)

    def assert_private_modes(self, world):
        data_dir = world.data_dir()
        self.assertEqual(stat.S_IMODE(os.stat(data_dir).st_mode), 0o700, data_dir)
        for root, dirs, files in os.walk(data_dir):
            for name in dirs:
                path = os.path.join(root, name)
                self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o700, path)
            for name in files:
                path = os.path.join(root, name)
                self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600, f"{path} is {oct(os.stat(path).st_mode)}")
        key = world.home.file("certs", "server.key")
        self.assertEqual(stat.S_IMODE(os.stat(key).st_mode), 0o600, key)

    def test_text_log_and_data_dir_hold_no_secret(self):
        world, secrets, master_key = self.run_scenario("text")
        self.assert_secrets_nowhere(world, secrets, master_key)
        self.assert_private_modes(world)

    def test_json_log_and_data_dir_hold_no_secret(self):
        world, secrets, master_key = self.run_scenario("json")
        self.assertTrue(world.bridge.output().lstrip().startswith("{"), world.bridge.output()[:500])
        self.assert_secrets_nowhere(world, secrets, master_key)
        self.assert_private_modes(world)

    def test_cli_commands_are_not_dumpable_either(self):
        """hash-password reads a password: its process has core dumps off from the start."""
        process = subprocess.Popen([harness.BIN, "hash-password"], stdin=subprocess.PIPE,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            limits = ""
            deadline = time.monotonic() + 10
            # It waits on stdin, so its limits can be read; hardening runs before reading anything.
            while time.monotonic() < deadline:
                with open(f"/proc/{process.pid}/limits") as f:
                    limits = f.read()
                core = [line for line in limits.splitlines() if line.startswith("Max core file size")]
                if core and core[0].split()[4:6] == ["0", "0"]:
                    break
                time.sleep(0.05)
            core = [line for line in limits.splitlines() if line.startswith("Max core file size")]
            self.assertEqual(core[0].split()[4:6], ["0", "0"], limits)
        finally:
            out, _ = process.communicate("a-password\n", timeout=30)
        self.assertTrue(out.strip(), "hash-password printed nothing")


if __name__ == "__main__":
    unittest.main()

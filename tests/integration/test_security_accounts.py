"""Bridge-password brute force and account isolation (docs/security.md, "Another account holder"
and "Password guessing").

One bridge with two signed-in accounts (alice and bob, each seeded with distinct messages). The
brute-force test uses its own loopback source addresses (127.0.0.2, 127.0.0.3, ...; Linux routes
all of 127/8 to lo) so the per-client-address limit can be told apart from the per-account one,
and every attempt is a new connection, so reconnecting cannot reset anything.

Limits under test (auth::LoginRateLimiterOptions defaults, include/mailtrixy/auth/login_rate_limiter.hpp):
5 failures are free, the 6th locks the client address and the account for 1 s, each further
failure (made while not locked) doubles it, up to 15 minutes.
"""

import base64
import json
import os
import re
import smtplib
import socket
import time
import unittest
import urllib.error
import urllib.request

import harness
import imap_harness as I
import signin_harness as S

ALICE, ALICE_MS_PASSWORD = S.USER, S.USER_PASSWORD
BOB, BOB_MS_PASSWORD = S.WORK_USER, S.WORK_PASSWORD


def seed_dir(home, name, address, count):
    root = home.file("seed-" + name)
    os.makedirs(os.path.join(root, "Private-" + name), exist_ok=True)
    for i in range(1, count + 1):
        with open(os.path.join(root, f"{i:03}.eml"), "w") as f:
            f.write(f"From: Carol <carol@example.com>\r\nTo: {address}\r\nSubject: {name} secret {i}\r\n"
                    f"Date: Mon, 02 Mar 2026 10:00:00 +0000\r\nMessage-ID: <{name}-only-{i}@example.com>\r\n"
                    f"MIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\nfor {name} only\r\n")
    with open(os.path.join(root, "Private-" + name, "p.eml"), "w") as f:
        f.write(f"From: c@example.com\r\nTo: {address}\r\nSubject: {name} folder\r\n"
                f"Message-ID: <{name}-folder@example.com>\r\n\r\nx\r\n")
    return root


class TwoAccountWorld(I.ImapWorld):
    """ImapWorld with alice and bob both signed in (each in their own browser)."""

    def start_both(self):
        self.start_bridge()
        self.browsers, self.passwords = {}, {}
        for address, ms_password in ((ALICE, ALICE_MS_PASSWORD), (BOB, BOB_MS_PASSWORD)):
            browser = self.browser()
            page, _ = self.sign_in(browser, login=address, password=ms_password)
            assert page.status == 200, page.text
            self.browsers[address] = browser
            self.passwords[address] = S.extract(I.PASSWORD_RE, page.text)
        self.imap_port = int(self.bridge.wait_for_log(r"imap listening\W.*?address=127\.0\.0\.1:(\d+)").group(1))
        self.imaps_port = int(self.bridge.wait_for_log(r"imaps listening\W.*?address=127\.0\.0\.1:(\d+)").group(1))
        self.bridge.wait_for_log(r"smtp listening\W.*?" + str(self.smtp_port))


# ---- tiny clients that can pick their source address ---------------------------------------

class Imap:
    """IMAPS with a chosen loopback source address; one line at a time."""

    def __init__(self, world, source="127.0.0.1"):
        raw = socket.create_connection(("127.0.0.1", world.imaps_port), timeout=30, source_address=(source, 0))
        self.sock = world.ssl_context().wrap_socket(raw, server_hostname="localhost")
        self.file = self.sock.makefile("rb")
        self.greeting = self.file.readline()
        self.tag = 0

    def command(self, text, continuation=None):
        """Sends a command (and one continuation line if given); returns the tagged reply line."""
        self.tag += 1
        tag = f"a{self.tag}"
        self.sock.sendall(f"{tag} {text}\r\n".encode())
        untagged = []
        while True:
            line = self.file.readline().decode("utf-8", "replace")
            if not line:
                raise AssertionError(f"connection closed; got {untagged!r}")
            if line.startswith("+") and continuation is not None:
                self.sock.sendall(continuation.encode() + b"\r\n")
                continuation = None
                continue
            if line.startswith(tag + " "):
                self.untagged = untagged
                return line.strip()
            untagged.append(line)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def imap_login(world, user, password, source="127.0.0.1"):
    client = Imap(world, source)
    try:
        return client.command(f'LOGIN "{user}" "{password}"')
    finally:
        client.close()


def imap_authenticate_plain(world, user, password, source="127.0.0.1"):
    client = Imap(world, source)
    try:
        token = base64.b64encode(f"\0{user}\0{password}".encode()).decode()
        return client.command("AUTHENTICATE PLAIN", continuation=token)
    finally:
        client.close()


def smtp_auth(world, user, password, source="127.0.0.1", mechanism="PLAIN"):
    """(code, text) of AUTH over STARTTLS on a new connection from `source`."""
    client = smtplib.SMTP("127.0.0.1", world.smtp_port, timeout=30, source_address=(source, 0))
    try:
        client.starttls(context=world.ssl_context())
        client.ehlo()
        if mechanism == "PLAIN":
            token = base64.b64encode(f"\0{user}\0{password}".encode()).decode()
            code, text = client.docmd("AUTH", "PLAIN " + token)
        else:
            code, _ = client.docmd("AUTH", "LOGIN " + base64.b64encode(user.encode()).decode())
            assert code == 334, code
            code, text = client.docmd(base64.b64encode(password.encode()).decode())
        return code, text.decode()
    finally:
        try:
            client.quit()
        except (smtplib.SMTPException, OSError):
            pass


class AccountsSecurityTest(harness.SharedWorldTestCase):
    @classmethod
    def make_world(cls, home):
        alice_seed = seed_dir(home, "alice", ALICE, 3)
        bob_seed = seed_dir(home, "bob", BOB, 2)
        return TwoAccountWorld(home, emulator_args=["--seed", f"{ALICE}={alice_seed}", "--seed", f"{BOB}={bob_seed}"])

    @classmethod
    def start_world(cls, world):
        world.start_both()

    def password(self, address):
        return self.world.passwords[address]

    # ---- brute force -----------------------------------------------------------------------

    def lock_out(self, user, source, at_least_seconds):
        """Fails SMTP AUTH for `user` from `source`, a new connection each time, waiting out each
        lockout, until the bridge announces one of at least `at_least_seconds`; returns the
        moment that lockout ends (monotonic) and the refusals seen."""
        refusals = []
        failures = 0
        for _ in range(40):
            code, text = smtp_auth(self.world, user, "wrong-password-guess", source)
            if code == 535:
                failures += 1
                continue
            self.assertEqual(code, 454, text)
            seconds = int(re.search(r"try again in (\d+) seconds", text).group(1))
            refusals.append((failures, seconds, text))
            if seconds >= at_least_seconds:
                return time.monotonic() + seconds, refusals
            time.sleep(seconds + 0.2)
        self.fail(f"never locked for {at_least_seconds}s: {refusals}")

    def test_bridge_password_brute_force_is_limited_per_address_and_per_account(self):
        world = self.world
        ends, refusals = self.lock_out(ALICE, "127.0.0.2", 8)
        # 5 free failures, the 6th locks; the lockout doubles with each failure made after one ended.
        self.assertEqual(refusals[0][0], 6, refusals)
        self.assertEqual([seconds for _, seconds, _ in refusals][:4], [1, 2, 4, 8], refusals)
        self.assertIn("Too many failed logins; try again in", refusals[0][2])

        # Locked: the right password is refused without being checked, on every way in.
        right = self.password(ALICE)
        self.assertRegex(imap_login(world, ALICE, right, "127.0.0.2"),
                         r"NO \[UNAVAILABLE\] Too many failed logins; try again in \d+ s\.")
        self.assertRegex(imap_authenticate_plain(world, ALICE, right, "127.0.0.2"),
                         r"NO \[UNAVAILABLE\] Too many failed logins")
        code, text = smtp_auth(world, ALICE, right, "127.0.0.2", "LOGIN")
        self.assertEqual(code, 454, text)
        self.assertRegex(text, r"4\.7\.0 Too many failed logins; try again in \d+ seconds")
        # Per account: another address cannot log in as alice either ...
        self.assertRegex(imap_login(world, ALICE, right, "127.0.0.3"), r"NO \[UNAVAILABLE\] Too many failed logins")
        # ... per address: the guessing address cannot log in as bob ...
        code, text = smtp_auth(world, BOB, self.password(BOB), "127.0.0.2")
        self.assertEqual(code, 454, text)
        # ... but bob from elsewhere is not affected.
        code, text = smtp_auth(world, BOB, self.password(BOB), "127.0.0.3")
        self.assertEqual(code, 235, text)
        self.assertTrue(time.monotonic() < ends, "the checks took longer than the lockout; they proved nothing")

        # Once the lockout is over, the right password works again (and clears the counters).
        time.sleep(max(0.0, ends - time.monotonic()) + 0.3)
        self.assertRegex(imap_login(world, ALICE, right, "127.0.0.2"), r"^a1 OK ")
        self.assertRegex(imap_authenticate_plain(world, ALICE, right, "127.0.0.2"), r"^a1 OK ")
        code, text = smtp_auth(world, ALICE, right, "127.0.0.2", "LOGIN")
        self.assertEqual(code, 235, text)

    def test_imap_failures_count_too(self):
        """Failures over IMAP (LOGIN and AUTHENTICATE PLAIN alike) count against the account like
        SMTP's: five of them plus one over SMTP lock it."""
        world = self.world
        source = "127.0.0.5"
        for i in range(5):
            if i % 2:
                reply = imap_authenticate_plain(world, BOB, f"guess-{i}", source)
            else:
                reply = imap_login(world, BOB, f"guess-{i}", source)
            self.assertRegex(reply, r"NO \[AUTHENTICATIONFAILED\] Wrong user name or bridge password")
        # The sixth failure, over SMTP, locks bob for 1 s: the right password is refused at once
        # (same connection, so the check is not slower than the lockout).
        client = smtplib.SMTP("127.0.0.1", world.smtp_port, timeout=30, source_address=("127.0.0.6", 0))
        try:
            client.starttls(context=world.ssl_context())
            client.ehlo()
            code, text = client.docmd("AUTH", "PLAIN " + base64.b64encode(f"\0{BOB}\0guess-5".encode()).decode())
            self.assertEqual(code, 535, text)
            right = base64.b64encode(f"\0{BOB}\0{self.password(BOB)}".encode()).decode()
            code, text = client.docmd("AUTH", "PLAIN " + right)
            self.assertEqual(code, 454, text)
            self.assertIn(b"Too many failed logins; try again in 1 seconds", text)
        finally:
            client.close()
        time.sleep(1.3)
        self.assertRegex(imap_login(world, BOB, self.password(BOB), source), r"^a1 OK ")

    # ---- two accounts side by side ---------------------------------------------------------

    def test_one_account_password_never_opens_the_other(self):
        world = self.world
        source = "127.0.0.7"
        for user, password in ((BOB, self.password(ALICE)), (ALICE, self.password(BOB))):
            self.assertRegex(imap_login(world, user, password, source), r"NO \[AUTHENTICATIONFAILED\]")
            code, text = smtp_auth(world, user, password, source)
            self.assertEqual(code, 535, text)
        self.assertNotEqual(self.password(ALICE), self.password(BOB))
        # And each password still opens its own account (which clears the failures above).
        self.assertRegex(imap_login(world, ALICE, self.password(ALICE), source), r"^a1 OK ")
        self.assertRegex(imap_login(world, BOB, self.password(BOB), source), r"^a1 OK ")

    def mailbox_view(self, address):
        """(folder names, Message-IDs of every message in every folder) as `address` sees them."""
        client = Imap(self.world)
        try:
            self.assertRegex(client.command(f'LOGIN "{address}" "{self.password(address)}"'), r" OK ")
            client.command('LIST "" "*"')
            folders = [re.search(r'"([^"]+)"\s*$|(\S+)\s*$', line).group(1) or
                       re.search(r'(\S+)\s*$', line).group(1)
                       for line in client.untagged if line.startswith("* LIST")]
            ids = set()
            for folder in folders:
                if not client.command(f'SELECT "{folder}"').split()[1] == "OK":
                    continue
                client.command("FETCH 1:* (BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
                text = "".join(client.untagged)
                ids.update(re.findall(r"<([^>]+)>", text))
            return folders, ids
        finally:
            client.close()

    def test_each_imap_session_sees_only_its_own_mailbox(self):
        I.wait_until(lambda: len(self.mailbox_view(ALICE)[1]) >= 4, 30, "alice's initial sync")
        I.wait_until(lambda: len(self.mailbox_view(BOB)[1]) >= 3, 30, "bob's initial sync")
        alice_folders, alice_ids = self.mailbox_view(ALICE)
        bob_folders, bob_ids = self.mailbox_view(BOB)
        self.assertIn("Private-alice", alice_folders)
        self.assertNotIn("Private-bob", alice_folders)
        self.assertIn("Private-bob", bob_folders)
        self.assertNotIn("Private-alice", bob_folders)
        self.assertTrue({"alice-only-1@example.com", "alice-folder@example.com"} <= alice_ids, alice_ids)
        self.assertTrue({"bob-only-1@example.com", "bob-folder@example.com"} <= bob_ids, bob_ids)
        self.assertFalse({i for i in alice_ids if i.startswith("bob-")}, alice_ids)
        self.assertFalse({i for i in bob_ids if i.startswith("alice-")}, bob_ids)
        # Naming the other account's folder does not reach it.
        client = Imap(self.world)
        try:
            client.command(f'LOGIN "{ALICE}" "{self.password(ALICE)}"')
            self.assertRegex(client.command('SELECT "Private-bob"'), r"^a2 NO ")
            self.assertRegex(client.command('STATUS "Private-bob" (MESSAGES)'), r"^a3 NO ")
        finally:
            client.close()

    def test_smtp_refuses_sending_as_the_other_account(self):
        client = smtplib.SMTP("127.0.0.1", self.world.smtp_port, timeout=30)
        try:
            client.starttls(context=self.world.ssl_context())
            client.login(ALICE, self.password(ALICE))
            code, text = client.mail(BOB)
            self.assertEqual(code, 553, text)
            self.assertIn(b"5.7.1", text)
            client.rset()
            code, text = client.mail(ALICE)
            self.assertEqual(code, 250, text)
        finally:
            client.close()

    def test_web_session_shows_only_its_own_account(self):
        for me, other in ((ALICE, BOB), (BOB, ALICE)):
            page = self.world.browsers[me].get(self.world.public_url + "/settings/email-accounts")
            self.assertEqual(page.status, 200, page.text)
            self.assertIn(me, page.text)
            self.assertNotIn(other, page.text)
        # A browser with no session sees no account at all.
        page = self.world.browser().get(self.world.public_url + "/settings/email-accounts")
        self.assertNotIn(ALICE, page.text)
        self.assertNotIn(BOB, page.text)

    def test_control_endpoint_needs_its_token_and_is_not_on_the_web_listener(self):
        with open(os.path.join(self.world.data_dir(), "control.json")) as f:
            control = json.load(f)
        routes = [f"/_control/accounts/{BOB}/reset-password", f"/_control/accounts/{BOB}/remove",
                  "/_control/queue/1/retry", "/_control/queue/1/drop", "/_control/backup"]
        for route in routes:
            for headers in ({}, {"Authorization": "Bearer " + "A" * 43},
                            {"Authorization": "Bearer " + control["token"][:-1]},
                            {"Authorization": "Basic " + control["token"]}):
                with self.subTest(route=route, headers=headers):
                    request = urllib.request.Request(control["url"] + route, data=b"{}", method="POST",
                                                     headers=headers)
                    with self.assertRaises(urllib.error.HTTPError) as refused:
                        urllib.request.urlopen(request, timeout=30)
                    self.assertEqual(refused.exception.code, 401, headers)
        # The control routes do not exist on the public web listener, whatever the token.
        browser = self.world.browsers[ALICE]
        token = S.csrf_token(browser.get(self.world.public_url + "/admin/login").text)
        page = browser.post(self.world.public_url + f"/_control/accounts/{BOB}/reset-password",
                            {"csrf_token": token},
                            headers={"Authorization": "Bearer " + control["token"], "Origin": self.world.public_url})
        self.assertEqual(page.status, 404, page.text)
        # bob's password was not reset by any of that.
        code, text = smtp_auth(self.world, BOB, self.password(BOB), "127.0.0.8")
        self.assertEqual(code, 235, text)


if __name__ == "__main__":
    unittest.main()

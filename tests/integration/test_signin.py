"""Outlook sign-in end to end over real TLS: the bridge (`mailtrixy serve`) against the emulator
standing in for Microsoft, driven like a browser (cookie jar, redirects inspected one by one).

Covers the user flow to "Outlook connected successfully!", the bridge password being accepted by
the account store, the `mailtrixy accounts` commands next to a running bridge, every
troubleshooting case of the issue, needs-sign-in after a revoked refresh token, restarts, and that
no token or secret is ever at rest in plaintext.
"""

import json
import os
import re
import time
import urllib.parse

from harness import TestCase
import signin_harness as S

PASSWORD_RE = r'<code id="bridge-password"[^>]*>([^<]*)</code>'
USERNAME_RE = r'<code id="bridge-username"[^>]*>([^<]*)</code>'


def wait_until(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.25)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


class SignInTestCase(TestCase):
    def world(self, **options):
        world = S.SignInWorld(self.home, **options)
        self.addCleanup(world.close)
        return world

    def started_world(self, **options):
        world = self.world(**options)
        world.start_bridge()
        return world

    def health(self, world, browser=None):
        response = (browser or world.browser()).get(world.public_url + "/healthz")
        self.assertEqual(response.status, 200)
        return json.loads(response.body)

    def admin_session(self, world):
        browser = world.browser()
        form = browser.get(world.public_url + "/admin/login")
        self.assertEqual(form.status, 200, form.text)
        signed_in = browser.post(world.public_url + "/admin/login",
                                 {"username": "admin", "password": S.ADMIN_PASSWORD,
                                  "csrf_token": S.csrf_token(form.text)},
                                 headers={"Origin": world.public_url})
        self.assertEqual(signed_in.status, 303, signed_in.text)
        return browser

    def set_secret_on_admin_page(self, world, browser, secret, client_id=S.CLIENT_ID):
        page = browser.get(world.public_url + "/admin/settings/integrations")
        self.assertEqual(page.status, 200, page.text)
        return browser.post(world.public_url + "/admin/settings/integrations",
                            {"client_id": client_id, "client_secret": secret, "csrf_token": S.csrf_token(page.text)},
                            headers={"Origin": world.public_url})

    def assert_error_page(self, response, status, *texts):
        self.assertEqual(response.status, status, response.text)
        self.assertIn("How to fix it", response.text)
        self.assertNotIn("Outlook connected successfully!", response.text)
        for text in texts:
            self.assertIn(text, response.text)


class SignInFlowTest(SignInTestCase):
    def test_full_sign_in_reaches_success_and_the_password_is_accepted(self):
        world = self.started_world()
        browser = world.browser()

        root = browser.get(world.public_url + "/")
        self.assertEqual(root.status, 302)
        self.assertEqual(root.location(), "/settings/email-accounts")

        page = browser.get(world.public_url + "/settings/email-accounts")
        self.assertEqual(page.status, 200)
        for text in ("Email Accounts", "Add Account", "Sign in with Outlook", "PREFERRED",
                     'href="/email-oauth/microsoft/start"'):
            self.assertIn(text, page.text)
        self.assertIn("default-src 'self'", page.headers["Content-Security-Policy"])
        self.assertEqual(page.headers["X-Frame-Options"], "DENY")
        self.assertEqual(page.headers["X-Content-Type-Options"], "nosniff")
        set_cookie = page.headers["Set-Cookie"]
        for attribute in ("__Host-mailtrixy_session=", "Secure", "HttpOnly", "SameSite=Lax", "Path=/"):
            self.assertIn(attribute, set_cookie)
        anonymous_id = browser.cookies()["__Host-mailtrixy_session"].value

        # The start redirect carries state and an S256 PKCE challenge to the emulator's /authorize.
        authorize_url = world.begin(browser)
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(authorize_url).query)
        self.assertEqual(query["code_challenge_method"], ["S256"])
        self.assertEqual(len(query["code_challenge"][0]), 43)
        self.assertGreaterEqual(len(query["state"][0]), 43)
        self.assertEqual(query["redirect_uri"], [world.redirect_uri])
        self.assertIn("offline_access", query["scope"][0])

        started = time.monotonic()
        answer = world.consent(browser, authorize_url)
        self.assertEqual(answer.status, 302, answer.text)
        success = browser.get(answer.location())
        elapsed = time.monotonic() - started
        self.assertEqual(success.status, 200, success.text)
        self.assertIn("Outlook connected successfully!", success.text)
        self.assertIn("initial sync", success.text)
        username = S.extract(USERNAME_RE, success.text)
        password = S.extract(PASSWORD_RE, success.text)
        self.assertEqual(username, S.USER)
        self.assertGreaterEqual(len(password), 22)  # at least 128 bits
        self.assertIn(f"<code>{world.imap_tls_port}</code> with SSL/TLS", success.text)
        self.assertIn(f"<code>{world.imap_port}</code> with STARTTLS", success.text)
        self.assertIn(f"<code>{world.smtp_port}</code> with STARTTLS", success.text)
        self.assertIn("<code>127.0.0.1</code>", success.text)
        self.assertLess(elapsed, 10)
        # A new session id after sign-in (no fixation).
        self.assertNotEqual(browser.cookies()["__Host-mailtrixy_session"].value, anonymous_id)

        # The shown password is accepted by the account store, read next to the running bridge.
        verified = world.cli("accounts", "verify-password", S.USER, stdin=password + "\n")
        self.assertEqual(verified.returncode, 0, verified.stderr)
        wrong = world.cli("accounts", "verify-password", S.USER, stdin="not-the-password\n")
        self.assertEqual(wrong.returncode, 1)
        self.assertIn("not accepted", wrong.stderr)

        accounts = browser.get(world.public_url + "/settings/email-accounts")
        self.assertIn(S.USER, accounts.text)
        self.assertIn(">Active<", accounts.text)

        listed = world.cli("accounts", "list")
        self.assertEqual(listed.returncode, 0, listed.stderr)
        self.assertRegex(listed.stdout, re.escape(S.USER) + r"\s+active")
        shown = world.cli("accounts", "show", S.USER.upper())
        self.assertEqual(shown.returncode, 0, shown.stderr)
        self.assertIn("status:        active", shown.stdout)
        self.assertIn("9188040d-6c67-4c5b-b112-36a304b66dad", shown.stdout)  # personal-account tenant

        # The callback URL cannot be replayed: the state was single use.
        self.assert_error_page(browser.get(answer.location()), 400, "expired or was already used")

        self.assertEqual(self.health(world)["status"], "ok")
        metrics = browser.get(world.public_url + "/metrics").text
        self.assertIn('mailtrixy_accounts{status="active"} 1', metrics)
        self.assertRegex(metrics, r'mailtrixy_http_requests_total\{route="/email-oauth/microsoft/callback",code="200"\} 1')
        self.assertIn("mailtrixy_token_refresh_requests_total", metrics)
        self.assertEqual(world.stop_bridge(), 0)

    def test_signing_in_again_keeps_the_account_and_accounts_accumulate_per_browser(self):
        world = self.started_world()
        browser = world.browser()
        first, _ = world.sign_in(browser)
        self.assertEqual(first.status, 200, first.text)
        key = re.search(r"account key:\s+(\S+)", world.cli("accounts", "show", S.USER).stdout).group(1)

        again, _ = world.sign_in(browser)
        self.assertEqual(again.status, 200, again.text)
        self.assertIn("connected before", again.text)
        new_password = S.extract(PASSWORD_RE, again.text)
        self.assertNotEqual(new_password, S.extract(PASSWORD_RE, first.text))
        self.assertEqual(re.search(r"account key:\s+(\S+)", world.cli("accounts", "show", S.USER).stdout).group(1), key)
        self.assertEqual(world.cli("accounts", "verify-password", S.USER, stdin=new_password + "\n").returncode, 0)

        work, _ = world.sign_in(browser, S.WORK_USER, S.WORK_PASSWORD)
        self.assertEqual(work.status, 200, work.text)
        page = browser.get(world.public_url + "/settings/email-accounts").text
        self.assertIn(S.USER, page)
        self.assertIn(S.WORK_USER, page)
        listed = world.cli("accounts", "list").stdout
        self.assertEqual(len([l for l in listed.splitlines() if "@" in l]), 2, listed)

        # Another browser sees none of them.
        stranger = world.browser().get(world.public_url + "/settings/email-accounts").text
        self.assertNotIn(S.USER, stranger)
        self.assertIn("No accounts connected in this browser yet", stranger)

        # Signing out of the browser is a CSRF-protected POST.
        csrf = S.csrf_token(page)
        refused = browser.post(world.public_url + "/settings/sign-out", {"csrf_token": "forged"},
                               headers={"Origin": world.public_url})
        self.assertEqual(refused.status, 403)
        out = browser.post(world.public_url + "/settings/sign-out", {"csrf_token": csrf},
                           headers={"Origin": world.public_url})
        self.assertEqual(out.status, 303)
        self.assertNotIn(S.USER, browser.get(world.public_url + "/settings/email-accounts").text)

    def test_accounts_commands_work_while_serve_runs_and_after_restart(self):
        world = self.started_world()
        browser = world.browser()
        success, _ = world.sign_in(browser)
        old_password = S.extract(PASSWORD_RE, success.text)
        work, _ = world.sign_in(browser, S.WORK_USER, S.WORK_PASSWORD)
        self.assertEqual(work.status, 200)

        # reset-password while the bridge holds the database goes through its control endpoint.
        self.assertTrue(os.path.exists(os.path.join(world.data_dir(), "control.json")))
        self.assertEqual(os.stat(os.path.join(world.data_dir(), "control.json")).st_mode & 0o777, 0o600)
        reset = world.cli("accounts", "reset-password", S.USER)
        self.assertEqual(reset.returncode, 0, reset.stderr)
        new_password = reset.stdout.strip().splitlines()[-1]
        self.assertNotEqual(new_password, old_password)
        self.assertEqual(world.cli("accounts", "verify-password", S.USER, stdin=new_password + "\n").returncode, 0)
        self.assertEqual(world.cli("accounts", "verify-password", S.USER, stdin=old_password + "\n").returncode, 1)

        removed = world.cli("accounts", "remove", S.WORK_USER)
        self.assertEqual(removed.returncode, 0, removed.stderr)
        self.assertNotIn(S.WORK_USER, world.cli("accounts", "list").stdout)
        self.assertNotIn(S.WORK_USER, browser.get(world.public_url + "/settings/email-accounts").text)

        missing = world.cli("accounts", "show", "nobody@outlook.com")
        self.assertEqual(missing.returncode, 1)
        self.assertIn("no account has the address nobody@outlook.com", missing.stderr)
        self.assertEqual(world.cli("accounts", "remove", "nobody@outlook.com").returncode, 1)
        self.assertEqual(world.cli("accounts").returncode, 2)
        self.assertEqual(world.cli("accounts", "show").returncode, 2)
        self.assertEqual(world.cli("accounts", "explode", "x").returncode, 2)

        # A restart keeps every account, and the browser's session.
        self.assertEqual(world.stop_bridge(), 0)
        self.assertFalse(os.path.exists(os.path.join(world.data_dir(), "control.json")))
        world.start_bridge()
        self.assertRegex(world.cli("accounts", "list").stdout, re.escape(S.USER) + r"\s+active")
        page = browser.get(world.public_url + "/settings/email-accounts").text
        self.assertIn(S.USER, page)
        self.assertEqual(world.cli("accounts", "verify-password", S.USER, stdin=new_password + "\n").returncode, 0)

        # Stopped: the write commands open the database themselves.
        self.assertEqual(world.stop_bridge(), 0)
        offline = world.cli("accounts", "reset-password", S.USER)
        self.assertEqual(offline.returncode, 0, offline.stderr)
        self.assertEqual(world.cli("accounts", "remove", S.USER).returncode, 0)
        self.assertIn("No accounts linked yet", world.cli("accounts", "list").stdout)


class TroubleshootingTest(SignInTestCase):
    def test_wrong_secret_is_explained_and_fixed_on_the_admin_page_without_restart(self):
        world = self.started_world(secret="Wr0ng~Secret.Value-for-this-test-0123456789")
        browser = world.browser()
        failed, _ = world.sign_in(browser)
        self.assert_error_page(failed, 502, "Microsoft rejected the client secret",
                               "the Secret ID was pasted instead of the Value", "invalid_client", "AADSTS7000215",
                               "/admin/settings/integrations")
        health = self.health(world)
        self.assertEqual(health["status"], "degraded")
        self.assertTrue(any("AADSTS7000215" in r or "client secret" in r for r in health["reasons"]), health)
        self.assertIn("currently not working", browser.get(world.public_url + "/settings/email-accounts").text)

        admin = self.admin_session(world)
        page = admin.get(world.public_url + "/admin/settings/integrations").text
        self.assertIn("broken", page)
        self.assertIn(world.redirect_uri, page)
        self.assertIn("from YAML", page)
        saved = self.set_secret_on_admin_page(world, admin, S.CLIENT_SECRET)
        self.assertEqual(saved.status, 303, saved.text)
        after = admin.get(world.public_url + saved.location()).text
        self.assertIn("from admin page", after)
        self.assertNotIn(S.CLIENT_SECRET, after)
        self.assertEqual(self.health(world)["status"], "ok")

        fixed, _ = world.sign_in(browser)
        self.assertEqual(fixed.status, 200, fixed.text)
        self.assertIn("Outlook connected successfully!", fixed.text)
        # The admin page's secret is encrypted at rest.
        world.stop_bridge()
        self.assert_not_in_data_dir(world, [S.CLIENT_SECRET])

    def test_guid_shaped_secret_is_refused_where_the_admin_enters_it(self):
        guid = "0b9e5a51-7d38-4a65-9f0e-0a3d2b8c1e77"
        world = self.world(secret=guid)
        bridge = S.Bridge(world.config_path)
        self.addCleanup(bridge.kill)
        self.assertEqual(bridge.process.wait(timeout=30), 2)
        bridge.kill()
        self.assertIn("this looks like the Secret ID; paste the secret Value", bridge.output())

        world.secret = S.CLIENT_SECRET
        world.write_config()
        world.start_bridge()
        admin = self.admin_session(world)
        refused = self.set_secret_on_admin_page(world, admin, guid)
        self.assertEqual(refused.status, 400, refused.text)
        self.assertIn("Secret ID", refused.text)
        self.assertIn("from YAML", refused.text)

    def test_expired_secret_shows_the_renewal_steps(self):
        world = self.started_world()
        status, _ = world.emulator.control("POST", f"/clients/{S.CLIENT_ID}/expire-secret")
        self.assertEqual(status, 200)
        failed, _ = world.sign_in(world.browser())
        self.assert_error_page(failed, 502, "The client secret has expired", "AADSTS7000222",
                               "Certificates &amp; secrets → New client secret")
        admin = self.admin_session(world)
        page = admin.get(world.public_url + "/admin/settings/integrations").text
        self.assertIn("AADSTS7000222", page)
        self.assertEqual(self.health(world)["status"], "degraded")

    def test_unregistered_redirect_uri_stops_at_microsoft_and_the_admin_page_names_the_uri(self):
        world = self.started_world(registered_redirect="https://localhost/some/other/callback")
        browser = world.browser()
        authorize_url = world.begin(browser)
        page = browser.get(authorize_url)
        self.assertEqual(page.status, 400)
        self.assertIn("AADSTS50011", page.text)
        self.assertIsNone(page.location())
        # What Microsoft complains about is exactly what the admin page says to register.
        self.assertIn(world.redirect_uri, page.text)
        admin = self.admin_session(world)
        self.assertIn(f'<code id="redirect-uri">{world.redirect_uri}</code>',
                      admin.get(world.public_url + "/admin/settings/integrations").text)

    def test_declined_consent(self):
        world = self.started_world()
        browser = world.browser()
        answer = world.consent(browser, world.begin(browser), consent="decline")
        self.assertEqual(answer.status, 302)
        self.assertIn("error=access_denied", answer.location())
        self.assert_error_page(browser.get(answer.location()), 403, "Consent was declined", "consent was declined")
        self.assertIn("No accounts linked yet", world.cli("accounts", "list").stdout)

    def test_missing_offline_access_explains_the_one_hour_limit(self):
        world = self.started_world()
        browser = world.browser()
        authorize_url = world.begin(browser)
        # The consent Microsoft records lacks offline_access (as when it is missing from the app's
        # permissions): take it out of the request the browser carries to Microsoft.
        parts = urllib.parse.urlsplit(authorize_url)
        query = urllib.parse.parse_qsl(parts.query)
        query = [(k, " ".join(s for s in v.split() if s != "offline_access") if k == "scope" else v) for k, v in query]
        trimmed = urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))
        answer = world.consent(browser, trimmed)
        self.assertEqual(answer.status, 302, answer.text)
        self.assert_error_page(browser.get(answer.location()), 502, "Microsoft did not grant offline access",
                               "after about an hour")
        self.assertIn("No accounts linked yet", world.cli("accounts", "list").stdout)

    def test_state_from_another_browser_is_refused(self):
        world = self.started_world()
        victim = world.browser()
        answer = world.consent(victim, world.begin(victim))
        callback = answer.location()
        attacker = world.browser()
        self.assert_error_page(attacker.get(callback), 400, "started in another browser")
        # Single use: the refused attempt used the state up.
        self.assert_error_page(victim.get(callback), 400, "expired or was already used")

    def test_forged_state_is_refused(self):
        world = self.started_world()
        browser = world.browser()
        browser.get(world.public_url + "/settings/email-accounts")
        response = browser.get(world.redirect_uri + "?code=forged&state=" + "A" * 43)
        self.assert_error_page(response, 400, "expired or was already used")

    def test_code_redeemed_twice(self):
        world = self.started_world()
        browser = world.browser()
        first = world.consent(browser, world.begin(browser))
        first_query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(first.location()).query))
        self.assertEqual(browser.get(first.location()).status, 200)
        # A second sign-in in the same browser (started after the first one rotated the session)
        # comes back carrying the first, already redeemed code.
        second_state = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(world.begin(browser)).query))["state"]
        replay = world.redirect_uri + "?" + urllib.parse.urlencode({"code": first_query["code"], "state": second_state})
        self.assert_error_page(browser.get(replay), 400, "This sign-in was already completed", "AADSTS54005")

    def test_admin_pages_are_disabled_without_a_password_hash(self):
        world = self.started_world(admin=False)
        page = world.browser().get(world.public_url + "/admin/login")
        self.assertEqual(page.status, 403)
        self.assertIn("Admin pages are disabled", page.text)
        self.assertIn("mailtrixy hash-password", page.text)

    def test_admin_login_is_csrf_protected_and_rate_limited(self):
        world = self.started_world()
        browser = world.browser()
        form = browser.get(world.public_url + "/admin/login")
        token = S.csrf_token(form.text)
        cross_site = browser.post(world.public_url + "/admin/login",
                                  {"username": "admin", "password": S.ADMIN_PASSWORD, "csrf_token": token},
                                  headers={"Origin": "https://evil.example"})
        self.assertEqual(cross_site.status, 403)
        statuses = []
        for _ in range(8):
            statuses.append(browser.post(world.public_url + "/admin/login",
                                         {"username": "admin", "password": "guess", "csrf_token": token},
                                         headers={"Origin": world.public_url}).status)
        self.assertEqual(statuses[0], 401)
        self.assertEqual(statuses[-1], 429)

    def assert_not_in_data_dir(self, world, secrets):
        for root, _, files in os.walk(world.data_dir()):
            for name in files:
                with open(os.path.join(root, name), "rb") as f:
                    content = f.read()
                for secret in secrets:
                    self.assertNotIn(secret.encode(), content, f"{secret[:6]}... found in {name}")


class TokenLifecycleTest(SignInTestCase):
    def test_refresh_then_revocation_marks_needs_sign_in_everywhere_and_sign_in_again_heals(self):
        world = self.started_world(emulator_args=["--access-token-lifetime", "5"])
        browser = world.browser()
        success, _ = world.sign_in(browser)
        self.assertEqual(success.status, 200, success.text)
        password = S.extract(PASSWORD_RE, success.text)

        # The scheduler renews the 5-second access token before it expires.
        def refreshes():
            _, stats = world.emulator.control("GET", "/stats")
            return stats["token_requests"] - 1  # minus the code redemption
        wait_until(lambda: refreshes() >= 2, 30, "two scheduled refreshes")
        time.sleep(6)
        self.assertLess(refreshes(), 12, "no refresh storm: about one refresh per 2.5 s at most")

        status, _ = world.emulator.control("POST", f"/users/{S.USER}/revoke")
        self.assertEqual(status, 200)
        wait_until(lambda: "needs-sign-in" in world.cli("accounts", "list").stdout, 30, "needs sign-in")
        page = browser.get(world.public_url + "/settings/email-accounts").text
        self.assertIn(">Needs sign-in<", page)
        self.assertIn("Sign in again", page)
        self.assertIn("login_hint=" + urllib.parse.quote(S.USER, safe=""), page)
        health = self.health(world)
        self.assertEqual(health["status"], "degraded")
        self.assertTrue(any(S.USER in reason for reason in health["reasons"]), health)
        shown = world.cli("accounts", "show", S.USER).stdout
        self.assertIn("needs-sign-in", shown)
        self.assertIn("/settings/email-accounts", shown)
        self.assertEqual(world.cli("accounts", "verify-password", S.USER, stdin=password + "\n").returncode, 1)
        # Not refreshed again while it needs sign-in.
        before = refreshes()
        time.sleep(4)
        self.assertLessEqual(refreshes() - before, 1)

        again, _ = world.sign_in(browser)
        self.assertEqual(again.status, 200, again.text)
        self.assertRegex(world.cli("accounts", "list").stdout, re.escape(S.USER) + r"\s+active")
        self.assertEqual(self.health(world)["status"], "ok")

    def test_no_token_or_secret_at_rest_or_in_logs(self):
        world = self.started_world(emulator_args=["--access-token-lifetime", "5"])
        browser = world.browser()
        success, _ = world.sign_in(browser)
        password = S.extract(PASSWORD_RE, success.text)
        wait_until(lambda: world.emulator.control("GET", "/stats")[1]["token_requests"] >= 3, 30,
                   "a rotated refresh token")
        self.assertEqual(world.stop_bridge(), 0)
        _, tokens = world.emulator.control("GET", "/tokens")
        secrets = [t["token"] for t in tokens["access_tokens"] + tokens["refresh_tokens"]]
        self.assertGreaterEqual(len(secrets), 4)
        secrets += [S.CLIENT_SECRET, password]
        scanned = 0
        for root, _, files in os.walk(world.data_dir()):
            for name in files:
                with open(os.path.join(root, name), "rb") as f:
                    content = f.read()
                scanned += 1
                for secret in secrets:
                    self.assertNotIn(secret.encode(), content, f"a secret ({secret[:6]}...) is in {name}")
        self.assertGreater(scanned, 3)
        log = world.bridge.output()
        self.assertIn("account linked", log)
        for secret in secrets:
            self.assertNotIn(secret, log)


class AccountsWithoutDatabaseTest(SignInTestCase):
    def test_commands_on_a_fresh_data_dir_create_nothing(self):
        world = self.world()
        listed = world.cli("accounts", "list")
        self.assertEqual(listed.returncode, 0, listed.stderr)
        self.assertIn("No accounts linked yet", listed.stdout)
        for command in (("show", S.USER), ("remove", S.USER), ("reset-password", S.USER)):
            result = world.cli("accounts", *command)
            self.assertEqual(result.returncode, 1, command)
            self.assertIn("no account has the address", result.stderr)
        self.assertEqual(world.cli("accounts", "verify-password", S.USER, stdin="x\n").returncode, 1)
        self.assertFalse(os.path.exists(os.path.join(world.data_dir(), "db")))
        self.assertFalse(os.path.exists(os.path.join(world.data_dir(), "master.key")))

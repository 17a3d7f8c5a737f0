"""Admin sign-in guessing and HSTS (docs/security.md, "Password guessing" and "TLS"), each on
its own bridge: a locked admin user name would disturb every other admin test, and HSTS needs a
public_url that is not localhost.

Limits under test (auth::LoginRateLimiterOptions defaults, the admin limiter in
src/web/server.cpp): 5 failures free, then 1 s doubling per failure, per client address and per
admin user name.
"""

import time
import unittest
import urllib.parse

import harness
import signin_harness as S


class AdminBruteForceTest(unittest.TestCase):
    """Admin sign-in guessing (its own bridge: a locked admin name would disturb other tests)."""

    def setUp(self):
        self.home = harness.TempHome()
        self.addCleanup(self.home.cleanup)
        self.world = S.SignInWorld(self.home)
        self.addCleanup(self.world.close)
        self.world.start_bridge()
        self.url = self.world.public_url

    def attempt(self, password, source="127.0.0.1", username="admin"):
        """One sign-in from `source` in a fresh browser session: (status, body, headers)."""
        import http.client
        import ssl
        context = ssl.create_default_context(cafile=self.home.file("certs", "server.crt"))

        def request(method, path, body=None, headers=None):
            connection = http.client.HTTPSConnection("localhost", self.world.port, context=context, timeout=60,
                                                     source_address=(source, 0))
            try:
                connection.request(method, path, body=body, headers=headers or {})
                answer = connection.getresponse()
                return answer.status, answer.read().decode(), answer.headers
            finally:
                connection.close()

        _, form, headers = request("GET", "/admin/login")
        cookie = headers["Set-Cookie"].split(";")[0]
        body = urllib.parse.urlencode({"username": username, "password": password,
                                       "csrf_token": S.csrf_token(form)})
        return request("POST", "/admin/login", body, {
            "Cookie": cookie, "Origin": self.url, "Content-Type": "application/x-www-form-urlencoded"})

    def test_admin_guessing_is_limited_per_address_and_per_user_name(self):
        seen = []
        ends = None
        for _ in range(40):
            status, body, headers = self.attempt("wrong-guess", "127.0.0.2")
            if status == 401:
                self.assertIn("The username or password is incorrect.", body)
                seen.append(401)
                continue
            self.assertEqual(status, 429, body)
            seconds = int(headers["Retry-After"])
            self.assertIn(f"Too many failed sign-ins. Wait {seconds} seconds before trying again.", body)
            seen.append(seconds)
            if seconds >= 4:
                ends = time.monotonic() + seconds
                break
            time.sleep(seconds + 0.2)
        # 5 free failures, the 6th locks for 1 s; each failure after a lockout doubles it.
        self.assertEqual(seen[:7], [401] * 6 + [1], seen)
        self.assertEqual([s for s in seen if s != 401], [1, 2, 4], seen)
        self.assertIsNotNone(ends, seen)
        # Locked: the right password is refused from the guessing address and, for the same
        # user name, from any other address (reconnecting or moving does not help).
        self.assertEqual(self.attempt(S.ADMIN_PASSWORD, "127.0.0.2")[0], 429)
        self.assertEqual(self.attempt(S.ADMIN_PASSWORD, "127.0.0.3")[0], 429)
        self.assertTrue(time.monotonic() < ends, "the checks outlasted the lockout")
        time.sleep(max(0.0, ends - time.monotonic()) + 0.3)
        self.assertEqual(self.attempt(S.ADMIN_PASSWORD, "127.0.0.2")[0], 303)


class HstsTest(harness.TestCase):
    def test_hsts_for_a_real_host_name(self):
        config = harness.BASE_CONFIG.format(secret=harness.TEST_SECRET, log_format="text", mail_listen='""').replace(
            "public_url: https://localhost:8443", "public_url: https://mail.example.org")
        bridge = self.start_bridge(self.home.write_config(config))
        url = bridge.web_url()
        for path in ("/settings/email-accounts", "/healthz", "/no/such/page"):
            result = harness.curl(url + path, "--insecure", "--include")
            self.assertEqual(result.returncode, 0, result.stderr)
            self.assertRegex(result.stdout, r"(?im)^strict-transport-security: max-age=\d{7,}", path)


if __name__ == "__main__":
    unittest.main()

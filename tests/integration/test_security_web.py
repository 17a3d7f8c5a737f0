"""The web UI against a hostile web page and hostile Microsoft text (docs/security.md, "A hostile
web page in the user's browser"): CSRF on every POST route, no open redirect through any
parameter or path, no session fixation (user and admin sign-in), Microsoft-provided text escaped
on every page that shows it, and the security headers on every route.
"""

import copy
import json
import unittest
import urllib.error
import urllib.parse
import urllib.request

import harness
import signin_harness as S

COOKIE = "__Host-mailtrixy_session"
XSS = ['<script>alert(1)</script>', '"><img src=x onerror=alert(2)>', "'><svg onload=alert(3)>"]
RAW_MARKERS = ["<script>alert(1)", "<img src=x onerror", "<svg onload", "<script>alert1"]
# Microsoft's /me gives mail = the address and a display name made from its local part
# (the emulator: "q'\"><script>alert1<" → "Q'\"><script>alert1<"); these addresses are valid.
HOSTILE_USERS = [("q'\"><script>alert1<@outlook.com", "hostile-password-1"),
                 ("a<svg_onload=alert1>@outlook.com", "hostile-password-2")]

EVIL_TARGETS = ["//evil.example", "https://evil.example", "/\\evil.example", "\\\\evil.example",
                "%2F%2Fevil.example", "/%2F%2Fevil.example", "/%5Cevil.example", "https:evil.example",
                "//evil.example@localhost", "javascript:alert(1)", "http://evil.example/%2e%2e"]
REDIRECT_PARAMETERS = ["next", "return_to", "returnTo", "redirect", "redirect_uri", "url", "continue",
                       "dest", "state", "login_hint"]


class WebSecurityTest(harness.SharedWorldTestCase):
    @classmethod
    def make_world(cls, home):
        hostile = [arg for address, password in HOSTILE_USERS for arg in ("--user", f"{address}:{password}")]
        return S.SignInWorld(home, emulator_args=hostile)

    @classmethod
    def start_world(cls, world):
        world.start_bridge()
        cls.url = world.public_url

    def admin_browser(self):
        browser = self.world.browser()
        form = browser.get(self.url + "/admin/login")
        signed_in = browser.post(self.url + "/admin/login",
                                 {"username": "admin", "password": S.ADMIN_PASSWORD, "csrf_token": S.csrf_token(form.text)},
                                 headers={"Origin": self.url})
        self.assertEqual(signed_in.status, 303, signed_in.text)
        return browser

    def assert_no_raw_markup(self, response, where):
        for marker in RAW_MARKERS:
            self.assertNotIn(marker.lower(), response.text.lower(), f"unescaped Microsoft/user text on {where}")

    # ---- headers -----------------------------------------------------------------------------

    def assert_security_headers(self, response, where):
        headers = response.headers
        csp = headers.get("Content-Security-Policy", "")
        self.assertIn("default-src 'self'", csp, where)
        self.assertIn("frame-ancestors 'none'", csp, where)
        self.assertIn("form-action 'self'", csp, where)
        self.assertNotIn("unsafe-inline", csp, where)
        self.assertNotIn("unsafe-eval", csp, where)
        self.assertEqual(headers.get("X-Content-Type-Options"), "nosniff", where)
        self.assertEqual(headers.get("X-Frame-Options"), "DENY", where)
        self.assertEqual(headers.get("Referrer-Policy"), "same-origin", where)
        if " /static/" in where:
            # Fixed public files (no secret in them) may be cached.
            self.assertIn("max-age=", headers.get("Cache-Control", ""), where)
        else:
            self.assertIn("no-store", headers.get("Cache-Control", ""), where)
        # HSTS is left out for a localhost public_url on purpose (it would pin every port of
        # localhost to HTTPS); test_hsts_for_a_real_host_name checks it where it belongs.

    def test_security_headers_on_every_route(self):
        browser = self.world.browser()
        admin = self.admin_browser()
        routes = [("GET", "/"), ("GET", "/settings/email-accounts"), ("GET", "/email-oauth/microsoft/start"),
                  ("GET", "/email-oauth/microsoft/callback?code=x&state=y"), ("GET", "/admin"),
                  ("GET", "/admin/login"), ("GET", "/admin/settings/integrations"), ("GET", "/admin/logout"),
                  ("GET", "/healthz"), ("GET", "/metrics"), ("GET", "/static/app.css"),
                  ("GET", "/static/favicon.svg"), ("GET", "/no/such/page"), ("GET", "/mail-proxy/auth"),
                  ("POST", "/settings/sign-out"), ("POST", "/admin/login"), ("POST", "/admin/logout"),
                  ("POST", "/admin/settings/integrations"), ("POST", "/healthz"), ("PUT", "/")]
        for client_name, client in (("anonymous", browser), ("admin", admin)):
            for method, path in routes:
                with self.subTest(client=client_name, route=f"{method} {path}"):
                    response = client.request(method, self.url + path, form={} if method != "GET" else None)
                    self.assert_security_headers(response, f"{method} {path} -> {response.status}")
                    self.assertNotIn("Strict-Transport-Security", response.headers)
                    if "text/html" in response.headers.get("Content-Type", ""):
                        self.assertNotIn("<script", response.text.lower())

    # ---- CSRF --------------------------------------------------------------------------------

    def test_every_post_route_needs_the_token_and_a_same_origin(self):
        admin = self.admin_browser()
        user = self.world.browser()
        user.get(self.url + "/settings/email-accounts")
        other = self.world.browser()
        other_token = S.csrf_token(other.get(self.url + "/admin/login").text)
        posts = [(user, "/settings/sign-out", "/settings/email-accounts", {}),
                 (user, "/admin/login", "/admin/login", {"username": "admin", "password": S.ADMIN_PASSWORD}),
                 (admin, "/admin/settings/integrations", "/admin/settings/integrations",
                  {"client_id": S.CLIENT_ID, "client_secret": "Ev1lQ~aTtAcKeRsEcReT.vAlUe-0000000000xxxxxx"}),
                 (admin, "/admin/logout", "/admin/logout", {})]
        for browser, path, form_page, fields in posts:
            # Tokens are bound to the session, not the page: take one from a page that has a form.
            token = S.csrf_token(browser.get(self.url + (form_page if browser is admin else "/admin/login")).text)
            attempts = {
                "no token": (dict(fields), {"Origin": self.url}),
                "empty token": (dict(fields, csrf_token=""), {"Origin": self.url}),
                "wrong token": (dict(fields, csrf_token=token[:-2] + ("AA" if not token.endswith("AA") else "BB")),
                                {"Origin": self.url}),
                "another browser's token": (dict(fields, csrf_token=other_token), {"Origin": self.url}),
                "cross-site Origin": (dict(fields, csrf_token=token), {"Origin": "https://evil.example"}),
                "null Origin": (dict(fields, csrf_token=token), {"Origin": "null"}),
                "look-alike Origin": (dict(fields, csrf_token=token), {"Origin": self.url + ".evil.example"}),
                "cross-site Referer": (dict(fields, csrf_token=token), {"Referer": "https://evil.example/x"}),
            }
            for name, (form, headers) in attempts.items():
                with self.subTest(route=path, attempt=name):
                    response = browser.post(self.url + path, form, headers=headers)
                    self.assertEqual(response.status, 403, response.text[:500])
            with self.subTest(route=path, attempt="text/plain body"):
                body = urllib.parse.urlencode(dict(fields, csrf_token=token))
                request = urllib.request.Request(self.url + path, data=body.encode(), method="POST",
                                                 headers={"Origin": self.url, "Content-Type": "text/plain"})
                try:
                    with browser._opener(self.url).open(request, timeout=60) as answer:
                        status = answer.status
                except urllib.error.HTTPError as error:
                    status = error.code
                self.assertEqual(status, 403)
        # Nothing changed: the admin is still signed in, the attacker's secret was not saved.
        page = admin.get(self.url + "/admin/settings/integrations")
        self.assertEqual(page.status, 200, page.text)
        self.assertIn("from YAML", page.text)
        health = json.loads(self.world.browser().get(self.url + "/healthz").body)
        self.assertEqual(health["status"], "ok", health)
        # The positive control: the same POST with the token and our Origin works.
        token = S.csrf_token(admin.get(self.url + "/admin/logout").text)
        self.assertEqual(admin.post(self.url + "/admin/logout", {"csrf_token": token},
                                    headers={"Origin": self.url}).status, 200)
        self.assertEqual(admin.get(self.url + "/admin/settings/integrations").status, 303)

    # ---- open redirects ----------------------------------------------------------------------

    def assert_location_stays_home(self, response, where):
        location = response.headers.get("Location")
        if location is None:
            return
        if location.startswith(self.world.emulator.url + "/"):
            # Only the start route sends the browser to Microsoft, and always back to our callback.
            query = urllib.parse.parse_qs(urllib.parse.urlsplit(location).query)
            self.assertEqual(query["redirect_uri"], [self.world.redirect_uri], where)
            return
        self.assertRegex(location, r"^/(?![/\\])", f"{where} redirects to {location!r}")
        self.assertNotIn("evil", location.lower(), where)

    def test_no_parameter_or_path_sends_the_browser_off_site(self):
        browser = self.world.browser()
        admin = self.admin_browser()
        paths = ["/", "/admin", "/admin/", "/admin/settings", "/admin/login", "/admin/settings/integrations",
                 "/email-oauth/microsoft/start", "/email-oauth/microsoft/callback", "/settings/email-accounts"]
        for target in EVIL_TARGETS:
            for client in (browser, admin):
                # Every parameter a redirect could plausibly read, all at once.
                query = "&".join(f"{parameter}={urllib.parse.quote(target, safe='%')}"
                                 for parameter in REDIRECT_PARAMETERS)
                for path in paths:
                    url = f"{self.url}{path}?{query}"
                    with self.subTest(url=url):
                        self.assert_location_stays_home(client.get(url), url)
                # The target as the path itself.
                raw = self.url + "/" + target.lstrip("/") if not target.startswith("/") else self.url + target
                with self.subTest(path=target):
                    self.assert_location_stays_home(client.get(raw), raw)
            # POSTs that redirect after success keep their fixed target too.
            fresh = self.world.browser()
            form = fresh.get(self.url + "/admin/login")
            signed_in = fresh.post(self.url + f"/admin/login?next={urllib.parse.quote(target)}",
                                   {"username": "admin", "password": S.ADMIN_PASSWORD, "next": target,
                                    "return_to": target, "csrf_token": S.csrf_token(form.text)},
                                   headers={"Origin": self.url})
            self.assertEqual(signed_in.status, 303)
            self.assertEqual(signed_in.location(), "/admin/settings/integrations")
        # A forged Host header does not leak into a Location either.
        response = browser.get(self.url + "/", headers={"Host": "evil.example"})
        self.assert_location_stays_home(response, "Host: evil.example")
        # The start route's redirect_uri is always the configured callback, whatever the query says.
        start = browser.get(self.url + "/email-oauth/microsoft/start?redirect_uri=https%3A%2F%2Fevil.example%2Fcb")
        self.assertEqual(start.status, 302)
        self.assert_location_stays_home(start, "start with redirect_uri")

    # ---- session fixation --------------------------------------------------------------------

    def test_planted_session_ids_are_never_kept_across_sign_in(self):
        # 1. A well-formed id the attacker made up and planted (e.g. through a sibling subdomain
        #    or a plain-HTTP response) is replaced when the victim signs in.
        attacker = self.world.browser()
        attacker.get(self.url + "/admin/login")
        made_up = copy.copy(attacker.cookies()[COOKIE])
        made_up.value = "A" * 43
        victim = self.world.browser()
        victim.jar.set_cookie(made_up)
        success, _ = self.world.sign_in(victim)
        self.assertEqual(success.status, 200, success.text)
        self.assertNotEqual(victim.cookies()[COOKIE].value, made_up.value)
        holder = self.world.browser()
        holder.jar.set_cookie(made_up)
        self.assertNotIn(S.USER, holder.get(self.url + "/settings/email-accounts").text,
                         "the planted id was signed in")

        # 2. A real anonymous id the attacker obtained (their own visit) and planted in the victim's
        #    browser: after the victim signs in, the id has changed and the old one shows nothing.
        attacker = self.world.browser()
        attacker.get(self.url + "/settings/email-accounts")
        planted = attacker.cookies()[COOKIE]
        victim = self.world.browser()
        victim.jar.set_cookie(planted)
        success, _ = self.world.sign_in(victim)
        self.assertEqual(success.status, 200, success.text)
        after = victim.cookies()[COOKIE].value
        self.assertNotEqual(after, planted.value)
        self.assertIn(S.USER, victim.get(self.url + "/settings/email-accounts").text)
        self.assertNotIn(S.USER, attacker.get(self.url + "/settings/email-accounts").text)

        # 3. The same for the admin sign-in.
        attacker = self.world.browser()
        attacker.get(self.url + "/admin/login")
        planted = attacker.cookies()[COOKIE]
        victim = self.world.browser()
        victim.jar.set_cookie(planted)
        form = victim.get(self.url + "/admin/login")
        signed_in = victim.post(self.url + "/admin/login",
                                {"username": "admin", "password": S.ADMIN_PASSWORD, "csrf_token": S.csrf_token(form.text)},
                                headers={"Origin": self.url})
        self.assertEqual(signed_in.status, 303, signed_in.text)
        self.assertNotEqual(victim.cookies()[COOKIE].value, planted.value)
        self.assertEqual(victim.get(self.url + "/admin/settings/integrations").status, 200)
        self.assertEqual(attacker.get(self.url + "/admin/settings/integrations").status, 303)

    # ---- Microsoft-provided text -------------------------------------------------------------

    def test_error_description_from_the_callback_query_is_escaped(self):
        for payload in XSS:
            browser = self.world.browser()
            authorize = self.world.begin(browser)
            state = urllib.parse.parse_qs(urllib.parse.urlsplit(authorize).query)["state"][0]
            query = urllib.parse.urlencode({"error": "access_denied" + payload, "state": state,
                                            "error_description": "AADSTS65004: " + payload,
                                            "error_uri": "javascript:alert(1)" + payload})
            page = browser.get(self.world.redirect_uri + "?" + query)
            self.assertGreaterEqual(page.status, 400, page.text)
            self.assert_no_raw_markup(page, "the callback error page")
            self.assertNotIn('href="javascript:', page.text)
            self.assertIn("AADSTS65004", page.text, "the description is not shown, so nothing was tested")
            # With a state that is not ours, the description is not trusted either.
            page = browser.get(self.world.redirect_uri + "?" + urllib.parse.urlencode(
                {"error": "x", "state": payload, "error_description": payload}))
            self.assert_no_raw_markup(page, "the callback error page (unknown state)")

    def test_microsoft_error_text_is_escaped_on_every_page_that_shows_it(self):
        payload = " ".join(XSS)
        emulator = self.world.emulator
        # Microsoft's token endpoint answers the code redemption with hostile text ...
        status, body = emulator.control("POST", "/faults", {"route": "POST /.*/oauth2/v2.0/token", "status": 401,
                                                          "code": "invalid_client", "message": "AADSTS7000215: " + payload})
        self.assertEqual(status, 200, body)
        browser = self.world.browser()
        failed, _ = self.world.sign_in(browser)
        self.assertGreaterEqual(failed.status, 400, failed.text)
        self.assert_no_raw_markup(failed, "the callback error page (token endpoint)")
        # ... which the bridge then shows on the accounts page, the admin page and /healthz.
        self.assert_no_raw_markup(browser.get(self.url + "/settings/email-accounts"), "email-accounts")
        admin = self.admin_browser()
        integrations = admin.get(self.url + "/admin/settings/integrations")
        self.assert_no_raw_markup(integrations, "admin integrations")
        self.assertIn("&lt;script&gt;", integrations.text + failed.text, "the hostile text was not shown at all")
        health = self.world.browser().get(self.url + "/healthz")
        self.assertTrue(health.headers["Content-Type"].startswith("application/json"))
        json.loads(health.body)
        # Graph's /me answers with hostile text.
        emulator.control("DELETE", "/faults")
        status, body = emulator.control("POST", "/faults", {"route": "GET /v1.0/me", "status": 500,
                                                          "message": payload})
        self.assertEqual(status, 200, body)
        failed, _ = self.world.sign_in(self.world.browser())
        self.assert_no_raw_markup(failed, "the callback error page (Graph /me)")
        emulator.control("DELETE", "/faults")
        # Saving a working secret heals the integration for the other tests.
        page = admin.get(self.url + "/admin/settings/integrations")
        saved = admin.post(self.url + "/admin/settings/integrations",
                           {"client_id": S.CLIENT_ID, "client_secret": S.CLIENT_SECRET, "csrf_token": S.csrf_token(page.text)},
                           headers={"Origin": self.url})
        self.assertEqual(saved.status, 303, saved.text)

    def test_hostile_display_name_and_address_are_escaped(self):
        for address, password in HOSTILE_USERS:
            with self.subTest(address=address):
                browser = self.world.browser()
                page, _ = self.world.sign_in(browser, login=address, password=password)
                self.assert_no_raw_markup(page, "the callback page")
                accounts = browser.get(self.url + "/settings/email-accounts")
                self.assert_no_raw_markup(accounts, "email-accounts")
                # The bridge accepts these addresses and shows them, escaped, where they belong.
                self.assertEqual(page.status, 200, page.text)
                self.assertIn("&lt;script&gt;alert1" if "script" in address else "&lt;svg", page.text)
                self.assertIn("alert1", accounts.text)
                admin = self.admin_browser()
                self.assert_no_raw_markup(admin.get(self.url + "/admin/settings/integrations"), "admin page")

    def test_user_typed_text_is_escaped(self):
        browser = self.world.browser()
        for payload in XSS:
            form = browser.get(self.url + "/admin/login")
            page = browser.post(self.url + "/admin/login",
                                {"username": payload, "password": "x", "csrf_token": S.csrf_token(form.text)},
                                headers={"Origin": self.url})
            self.assert_no_raw_markup(page, "admin login form")
            page = browser.get(self.url + "/email-oauth/microsoft/start?login_hint=" + urllib.parse.quote(payload))
            self.assert_location_stays_home(page, "start with login_hint")


if __name__ == "__main__":
    unittest.main()

"""mailtrixy-emulator as a black box over real HTTPS: its command line, the identity platform
(sign-in form, token endpoint, every troubleshooting error of the seed), /me, throttling, faults,
$batch and the control API. Expected texts and shapes come from docs/graph-facts.md (A, B13, C)."""

import base64
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.parse

from harness import EMULATOR_BIN, Emulator

CLIENT_ID = "6731de76-14a6-49ae-97bc-6eba6914391e"
SECRET = "Qx48Q~tEsTsEcReT.vAlUe-0123456789abcdefXY"
REDIRECT_URI = "https://localhost:8443/email-oauth/microsoft/callback"
PERSONAL = "alice.smith@outlook.com"
WORK = "bob@contoso.onmicrosoft.com"
PASSWORD = "Passw0rd!"
FULL_SCOPE = ("offline_access openid profile email https://graph.microsoft.com/Mail.ReadWrite "
              "https://graph.microsoft.com/Mail.Send https://graph.microsoft.com/User.Read")
VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"  # RFC 7636 appendix B
CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def b64url_json(segment):
    return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))


class EmulatorTestCase(unittest.TestCase):
    def setUp(self):
        self.directory = tempfile.mkdtemp(prefix="mailtrixy-emulator-test-")
        self.addCleanup(shutil.rmtree, self.directory, True)

    def start(self, *args, users=((PERSONAL, PASSWORD), (WORK, PASSWORD))):
        emulator = Emulator(self.directory, clients=[(CLIENT_ID, SECRET, [REDIRECT_URI])], users=users, args=args)
        self.addCleanup(emulator.kill)
        return emulator

    # ---- identity helpers ----

    def authorize_path(self, scope=FULL_SCOPE, tenant="common", **extra):
        params = {"client_id": CLIENT_ID, "response_type": "code", "redirect_uri": REDIRECT_URI, "scope": scope,
                  "state": "st4te", **extra}
        return f"/{tenant}/oauth2/v2.0/authorize?" + urllib.parse.urlencode(params)

    def sign_in(self, emulator, user=PERSONAL, password=PASSWORD, consent="accept", scope=FULL_SCOPE, **extra):
        form = urllib.parse.urlencode({"login": user, "password": password, "consent": consent})
        return emulator.request("POST", self.authorize_path(scope, **extra), form, FORM)

    def code_for(self, emulator, **kwargs):
        status, headers, body = self.sign_in(emulator, **kwargs)
        self.assertEqual(status, 302, body)
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(headers["Location"]).query)
        self.assertEqual(query["state"], ["st4te"])
        return query["code"][0]

    def token(self, emulator, tenant="common", **fields):
        fields.setdefault("client_id", CLIENT_ID)
        fields.setdefault("client_secret", SECRET)
        status, headers, body = emulator.request("POST", f"/{tenant}/oauth2/v2.0/token",
                                                 urllib.parse.urlencode(fields), FORM)
        return status, headers, json.loads(body)

    def redeem(self, emulator, code, **fields):
        return self.token(emulator, grant_type="authorization_code", code=code, redirect_uri=REDIRECT_URI, **fields)

    def tokens_for(self, emulator, user=PERSONAL, scope=FULL_SCOPE):
        status, _, body = self.redeem(emulator, self.code_for(emulator, user=user, scope=scope))
        self.assertEqual(status, 200, body)
        return body

    def refresh(self, emulator, refresh_token, **fields):
        return self.token(emulator, grant_type="refresh_token", refresh_token=refresh_token, **fields)

    def assert_token_error(self, result, status, error, code, text=None):
        got_status, headers, body = result
        self.assertEqual(got_status, status, body)
        self.assertEqual(body["error"], error)
        self.assertEqual(body["error_codes"], [code])
        self.assertRegex(body["timestamp"], r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$")
        self.assertRegex(body["trace_id"], GUID)
        self.assertRegex(body["correlation_id"], GUID)
        self.assertTrue(body["error_uri"].endswith(f"/error?code={code}"), body["error_uri"])
        description = body["error_description"]
        suffix = (f"\r\nTrace ID: {body['trace_id']}\r\nCorrelation ID: {body['correlation_id']}"
                  f"\r\nTimestamp: {body['timestamp']}")
        self.assertTrue(description.startswith(f"AADSTS{code}: "), description)
        self.assertTrue(description.endswith(suffix), description)
        if text is not None:
            self.assertEqual(description[len(f"AADSTS{code}: "):-len(suffix)], text)
        self.assertTrue(headers["Content-Type"].startswith("application/json"))
        return body

    def graph(self, emulator, method, path, token, body=None, headers=None):
        all_headers = {"Authorization": f"Bearer {token}", **(headers or {})}
        if body is not None:
            all_headers.setdefault("Content-Type", "application/json")
            body = json.dumps(body)
        status, message, data = emulator.request(method, "/v1.0" + path, body, all_headers)
        return status, message, (json.loads(data) if data else None)


class CommandLineTest(EmulatorTestCase):
    def test_ready_line_then_sigterm_and_sigint_stop_cleanly(self):
        emulator = self.start()
        self.assertRegex(emulator.url, r"^https://127\.0\.0\.1:\d+$")
        self.assertTrue(os.path.exists(emulator.cert) and os.path.exists(emulator.key))
        status, _, _ = emulator.request("GET", "/_emulator/stats")
        self.assertEqual(status, 200)
        self.assertEqual(emulator.stop(signal.SIGTERM), 0, emulator.stderr())
        again = self.start()  # reuses the certificate it made the first time
        self.assertEqual(again.stop(signal.SIGINT), 0, again.stderr())

    def test_usage_errors_exit_2_with_one_clear_line(self):
        cert = os.path.join(self.directory, "c.pem")
        key = os.path.join(self.directory, "k.pem")
        cases = [
            (["--bogus"], "unknown option '--bogus'"),
            (["--client", "no-secret-here"], "must be ID:SECRET"),
            (["--user", "not-an-address:pw"], "must be EMAIL:PASSWORD"),
            (["--redirect-uri", "https://x/cb"], "must follow the --client"),
            (["--latency", "soon"], "--latency"),
            (["--user", "a@outlook.com:pw", "--seed", "a@outlook.com=" + os.path.join(self.directory, "missing")],
             "--seed a@outlook.com="),
        ]
        for args, expected in cases:
            with self.subTest(args=args):
                result = subprocess.run([EMULATOR_BIN, "--cert", cert, "--key", key, *args], capture_output=True,
                                        text=True, timeout=30)
                self.assertEqual(result.returncode, 2, result.stderr)
                self.assertIn(expected, result.stderr)
                self.assertTrue(result.stderr.startswith("mailtrixy-emulator: "), result.stderr)
                self.assertEqual(result.stdout, "")

    def test_help(self):
        result = subprocess.run([EMULATOR_BIN, "--help"], capture_output=True, text=True, timeout=30)
        self.assertEqual(result.returncode, 0)
        self.assertIn("--access-token-lifetime", result.stdout)


class SignInTest(EmulatorTestCase):
    def test_full_authorize_and_token_flow(self):
        emulator = self.start()
        path = self.authorize_path(code_challenge=CHALLENGE, code_challenge_method="S256")
        status, headers, body = emulator.request("GET", path)
        self.assertEqual(status, 200)
        self.assertTrue(headers["Content-Type"].startswith("text/html"))
        page = body.decode()
        self.assertIn('<form method="POST" action="' + path.replace("&", "&amp;") + '">', page)
        for field in ('name="login"', 'name="password"', 'name="consent" value="accept"',
                      'name="consent" value="decline"'):
            self.assertIn(field, page)

        code = self.code_for(emulator, code_challenge=CHALLENGE, code_challenge_method="S256")
        status, headers, body = self.redeem(emulator, code, code_verifier=VERIFIER, client_info="1")
        self.assertEqual(status, 200, body)
        self.assertEqual(list(body)[:6], ["token_type", "scope", "expires_in", "ext_expires_in", "access_token",
                                          "refresh_token"])
        self.assertEqual(body["token_type"], "Bearer")
        self.assertEqual(body["expires_in"], 3599)
        self.assertEqual(body["ext_expires_in"], 3599)
        self.assertIn("offline_access", body["scope"].split())
        self.assertIn("Mail.ReadWrite", body["scope"].split())
        header, claims, signature = body["id_token"].split(".")
        self.assertEqual(b64url_json(header)["alg"], "RS256")
        claims = b64url_json(claims)
        self.assertEqual(claims["aud"], CLIENT_ID)
        self.assertEqual(claims["tid"], "9188040d-6c67-4c5b-b112-36a304b66dad")
        self.assertEqual(claims["iss"], "https://login.microsoftonline.com/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0")
        self.assertEqual(claims["preferred_username"], PERSONAL)
        self.assertEqual(claims["name"], "Alice Smith")
        self.assertEqual(claims["ver"], "2.0")
        self.assertLess(claims["iat"], claims["exp"])
        self.assertRegex(claims["oid"], r"^00000000-0000-0000-[0-9a-f]{4}-[0-9a-f]{12}$")

        status, headers, me = self.graph(emulator, "GET", "/me", body["access_token"])
        self.assertEqual(status, 200, me)
        self.assertIsNone(me["mail"])
        self.assertEqual(me["userPrincipalName"], PERSONAL)
        self.assertRegex(me["id"], r"^[0-9a-f]{16}$")
        # The id token's oid is the Graph id written as a GUID (personal accounts).
        self.assertEqual(claims["oid"].replace("-", "")[16:], me["id"])
        self.assertEqual(headers["OData-Version"], "4.0")
        self.assertRegex(headers["request-id"], GUID)
        self.assertTrue(me["@odata.context"].endswith("/v1.0/$metadata#users/$entity"))
        client_info = b64url_json(body["client_info"])
        self.assertEqual(client_info, {"uid": claims["oid"], "utid": claims["tid"]})

    def test_work_account_me_has_mail_and_guid_id(self):
        emulator = self.start()
        tokens = self.tokens_for(emulator, user=WORK)
        _, _, me = self.graph(emulator, "GET", "/me", tokens["access_token"])
        self.assertEqual(me["mail"], WORK)
        self.assertRegex(me["id"], GUID)
        claims = b64url_json(tokens["id_token"].split(".")[1])
        self.assertEqual(claims["oid"], me["id"])
        self.assertNotEqual(claims["tid"], "9188040d-6c67-4c5b-b112-36a304b66dad")

    def test_ids_survive_a_restart(self):
        first = self.start()
        _, _, me_before = self.graph(first, "GET", "/me", self.tokens_for(first)["access_token"])
        self.assertEqual(first.stop(), 0)
        second = self.start()
        _, _, me_after = self.graph(second, "GET", "/me", self.tokens_for(second)["access_token"])
        self.assertEqual(me_before["id"], me_after["id"])

    def test_form_post_response_mode(self):
        emulator = self.start()
        status, headers, body = self.sign_in(emulator, response_mode="form_post")
        self.assertEqual(status, 200)
        self.assertIsNone(headers["Location"])
        page = body.decode()
        self.assertIn(f'action="{REDIRECT_URI}"', page)
        self.assertRegex(page, r'name="code" value="[^"]{40,}"')
        self.assertIn('name="state" value="st4te"', page)

    def test_wrong_password_rerenders_the_form(self):
        emulator = self.start()
        status, headers, body = self.sign_in(emulator, password="wrong")
        self.assertEqual(status, 200)
        self.assertIsNone(headers["Location"])
        self.assertIn("Your account or password is incorrect.", body.decode())
        self.assertIn('name="password"', body.decode())

    def test_unknown_client_is_an_error_page(self):
        emulator = self.start()
        path = self.authorize_path().replace(CLIENT_ID, "11112222-bbbb-3333-cccc-4444dddd5555")
        status, headers, body = emulator.request("GET", path)
        self.assertEqual(status, 400)
        self.assertIsNone(headers["Location"])
        self.assertIn("AADSTS700016: Application with identifier &#39;11112222-bbbb-3333-cccc-4444dddd5555&#39; "
                      "was not found in the directory &#39;common&#39;.", body.decode())


class TroubleshootingTest(EmulatorTestCase):
    """The seed's troubleshooting cases, each with Microsoft's exact error."""

    def test_redirect_uri_mismatch_is_an_error_page_without_redirect(self):
        emulator = self.start()
        wrong = REDIRECT_URI + "/"
        path = self.authorize_path().replace(urllib.parse.quote_plus(REDIRECT_URI), urllib.parse.quote_plus(wrong))
        status, headers, body = emulator.request("GET", path)
        self.assertEqual(status, 400)
        self.assertIsNone(headers["Location"])
        text = body.decode().replace("&#39;", "'")
        self.assertIn(f"AADSTS50011: The redirect URI '{wrong}' specified in the request does not match the redirect "
                      f"URIs configured for the application '{CLIENT_ID}'. Make sure the redirect URI sent in the "
                      "request matches one added to your application in the Azure portal. Navigate to "
                      "https://aka.ms/redirectUriMismatchError to learn more about how to fix this.", text)

    def test_secret_id_pasted_instead_of_value(self):
        emulator = self.start()
        code = self.code_for(emulator)
        self.assert_token_error(
            self.redeem(emulator, code, client_secret="2a4c5e2d-1b7e-4c4c-9a55-0c3c2f1d9e8b"), 401, "invalid_client",
            7000215,
            "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, "
            f"not the client secret ID, for a secret added to app '{CLIENT_ID}'.")

    def test_expired_secret(self):
        emulator = self.start()
        code = self.code_for(emulator)
        status, body = emulator.control("POST", f"/clients/{CLIENT_ID}/expire-secret")
        self.assertEqual(status, 200, body)
        self.assert_token_error(
            self.redeem(emulator, code), 401, "invalid_client", 7000222,
            f"The provided client secret keys for app '{CLIENT_ID}' are expired. Visit the Azure portal to create new "
            "keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for added "
            "security: https://aka.ms/certCreds.")

    def test_declined_consent_redirects_with_access_denied(self):
        emulator = self.start()
        status, headers, _ = self.sign_in(emulator, consent="decline")
        self.assertEqual(status, 302)
        location = headers["Location"]
        self.assertTrue(location.startswith(REDIRECT_URI + "?error=access_denied&error_description=AADSTS65004%3a+"),
                        location)
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(location).query)
        self.assertEqual(query["state"], ["st4te"])
        self.assertNotIn("code", query)
        self.assertRegex(query["error_description"][0],
                         r"^AADSTS65004: User declined to consent to access the app\.\r\nTrace ID: [0-9a-f-]{36}\r\n"
                         r"Correlation ID: [0-9a-f-]{36}\r\nTimestamp: \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$")

    def test_without_offline_access_there_is_no_refresh_token(self):
        emulator = self.start()
        tokens = self.tokens_for(emulator, scope="openid profile email Mail.ReadWrite Mail.Send User.Read")
        self.assertNotIn("refresh_token", tokens)
        self.assertNotIn("offline_access", tokens["scope"].split())
        self.assertIn("access_token", tokens)


class CodesAndRefreshTest(EmulatorTestCase):
    def test_code_reuse_is_54005(self):
        emulator = self.start()
        code = self.code_for(emulator)
        self.assertEqual(self.redeem(emulator, code)[0], 200)
        self.assert_token_error(
            self.redeem(emulator, code), 400, "invalid_grant", 54005,
            "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing "
            "refresh token.")

    def test_pkce_mismatch_is_50148_for_s256_and_plain(self):
        emulator = self.start()
        text = "The code_verifier does not match the code_challenge supplied in the authorization request for PKCE."
        code = self.code_for(emulator, code_challenge=CHALLENGE, code_challenge_method="S256")
        self.assert_token_error(self.redeem(emulator, code, code_verifier=VERIFIER[:-1] + "K"), 400, "invalid_grant",
                                50148, text)
        self.assertEqual(self.redeem(emulator, code, code_verifier=VERIFIER)[0], 200)

        plain = "a-plain-verifier-that-is-at-least-43-characters-long"
        code = self.code_for(emulator, code_challenge=plain, code_challenge_method="plain")
        self.assert_token_error(self.redeem(emulator, code, code_verifier=VERIFIER), 400, "invalid_grant", 50148, text)
        self.assertEqual(self.redeem(emulator, code, code_verifier=plain)[0], 200)
        # S256's challenge sent as a plain verifier does not pass.
        code = self.code_for(emulator, code_challenge=CHALLENGE, code_challenge_method="S256")
        self.assert_token_error(self.redeem(emulator, code, code_verifier=CHALLENGE), 400, "invalid_grant", 50148)
        self.assertEqual(base64.urlsafe_b64encode(hashlib.sha256(VERIFIER.encode()).digest()).rstrip(b"=").decode(),
                         CHALLENGE)

    def test_refresh_rotates_and_old_refresh_token_stays_valid(self):
        emulator = self.start()
        first = self.tokens_for(emulator)
        status, _, second = self.refresh(emulator, first["refresh_token"])
        self.assertEqual(status, 200, second)
        self.assertNotEqual(second["refresh_token"], first["refresh_token"])
        self.assertNotEqual(second["access_token"], first["access_token"])
        status, _, third = self.refresh(emulator, first["refresh_token"])
        self.assertEqual(status, 200, third)
        for token in (first, second, third):
            self.assertEqual(self.graph(emulator, "GET", "/me", token["access_token"])[0], 200)
        _, listing = emulator.control("GET", "/tokens")
        issued = {entry["token"] for entry in listing["refresh_tokens"]}
        self.assertEqual(issued, {first["refresh_token"], second["refresh_token"], third["refresh_token"]})
        self.assertEqual(len(listing["access_tokens"]), 3)

    def test_revoked_refresh_token_is_50173(self):
        emulator = self.start()
        tokens = self.tokens_for(emulator)
        other = self.tokens_for(emulator, user=WORK)
        time.sleep(0.01)
        self.assertEqual(emulator.control("POST", f"/users/{PERSONAL}/revoke")[0], 200)
        body = self.assert_token_error(self.refresh(emulator, tokens["refresh_token"]), 400, "invalid_grant", 50173)
        self.assertRegex(body["error_description"],
                         r"AADSTS50173: The provided grant has expired due to it being revoked, a fresh auth token is "
                         r"needed\. The user might have changed or reset their password\. The grant was issued on "
                         r"'[0-9T:.-]+Z' and the TokensValidFrom date \(before which tokens are not valid\) for this "
                         r"user is '[0-9T:.-]+Z'\.")
        self.assertEqual(self.refresh(emulator, other["refresh_token"])[0], 200)

    def test_refresh_token_expired_by_inactivity_is_700082(self):
        emulator = self.start()
        tokens = self.tokens_for(emulator)
        status, body = emulator.control("POST", f"/users/{PERSONAL}/expire-refresh-tokens")
        self.assertEqual((status, body["expired"]), (200, 1))
        body = self.assert_token_error(self.refresh(emulator, tokens["refresh_token"]), 400, "invalid_grant", 700082)
        self.assertRegex(body["error_description"],
                         r"^AADSTS700082: The refresh token has expired due to inactivity\. The token was issued on "
                         r"[0-9T:.-]+Z and was inactive for 90\.00:00:00\.")


class GraphCoreTest(EmulatorTestCase):
    def test_expired_access_token_is_401_with_both_challenges(self):
        emulator = self.start("--access-token-lifetime", "2")
        tokens = self.tokens_for(emulator)
        self.assertEqual(tokens["expires_in"], 2)
        self.assertEqual(self.graph(emulator, "GET", "/me", tokens["access_token"])[0], 200)
        time.sleep(2.5)
        status, headers, body = self.graph(emulator, "GET", "/me", tokens["access_token"])
        self.assertEqual(status, 401)
        self.assertEqual(body["error"]["code"], "InvalidAuthenticationToken")
        self.assertEqual(body["error"]["message"], "Access token has expired or is not yet valid.")
        self.assertEqual(body["error"]["innerError"]["request-id"], headers["request-id"])
        self.assertRegex(body["error"]["innerError"]["date"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$")
        self.assertEqual(headers["Content-Type"], "application/json")
        challenges = headers.get_all("WWW-Authenticate")
        self.assertEqual(len(challenges), 2, challenges)
        self.assertTrue(challenges[0].startswith('Bearer realm="", authorization_uri="'), challenges[0])
        self.assertIn('client_id="00000003-0000-0000-c000-000000000000"', challenges[0])
        self.assertTrue(challenges[1].startswith("PoP "), challenges[1])
        self.assertIn("nonce=", challenges[1])
        # The refresh token still gets a fresh access token.
        status, _, fresh = self.refresh(emulator, tokens["refresh_token"])
        self.assertEqual(status, 200)
        self.assertEqual(self.graph(emulator, "GET", "/me", fresh["access_token"])[0], 200)

    def test_more_than_four_concurrent_requests_per_mailbox_are_throttled(self):
        emulator = self.start("--latency", "500")
        token = self.tokens_for(emulator)["access_token"]
        self.assertEqual(emulator.control("POST", "/stats/reset")[0], 200)
        results = []
        barrier = threading.Barrier(6)

        def call():
            barrier.wait()
            status, headers, body = self.graph(emulator, "GET", "/me", token)
            results.append((status, headers["Retry-After"], body))

        threads = [threading.Thread(target=call) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        statuses = sorted(status for status, _, _ in results)
        self.assertEqual(len(statuses), 6)
        self.assertIn(429, statuses)
        self.assertLessEqual(statuses.count(200), 4)
        for status, retry_after, body in results:
            if status == 429:
                self.assertEqual(retry_after, "1")
                self.assertEqual(body, {"error": {"code": "ApplicationThrottled",
                                                  "message": "Application is over its MailboxConcurrency limit."}})
        _, stats = emulator.control("GET", "/stats")
        self.assertEqual(stats["max_in_flight"][PERSONAL], 4)
        self.assertEqual(stats["throttled"], statuses.count(429))
        self.assertEqual(stats["graph_requests"], 6)
        self.assertEqual(stats["in_flight"][PERSONAL], 0)

    def test_injected_faults(self):
        emulator = self.start()
        tokens = self.tokens_for(emulator)
        status, body = emulator.control("POST", "/faults", {"route": "^GET /v1.0/me$", "status": 429, "count": 2,
                                                             "retry_after": 3})
        self.assertEqual(status, 200, body)
        for _ in range(2):
            status, headers, body = self.graph(emulator, "GET", "/me", tokens["access_token"])
            self.assertEqual(status, 429)
            self.assertEqual(headers["Retry-After"], "3")
            self.assertEqual(body["error"]["code"], "TooManyRequests")
        self.assertEqual(self.graph(emulator, "GET", "/me", tokens["access_token"])[0], 200)

        emulator.control("POST", "/faults", {"route": "/me", "status": 503})
        status, _, body = self.graph(emulator, "GET", "/me", tokens["access_token"])
        self.assertEqual((status, body["error"]["code"]), (503, "serviceNotAvailable"))

        emulator.control("POST", "/faults", {"route": "oauth2/v2.0/token", "status": 503, "retry_after": 1})
        result = self.refresh(emulator, tokens["refresh_token"])
        self.assertEqual(result[1]["Retry-After"], "1")
        self.assert_token_error(result, 503, "temporarily_unavailable", 90033)
        self.assertEqual(self.refresh(emulator, tokens["refresh_token"])[0], 200)

        emulator.control("POST", "/faults", {"route": "GET /v1.0/me", "kind": "malformed"})
        status, _, data = emulator.request("GET", "/v1.0/me", headers={"Authorization": "Bearer " +
                                                                      tokens["access_token"]})
        self.assertEqual(status, 200)
        with self.assertRaises(ValueError):
            json.loads(data)
        status, body = emulator.control("POST", "/faults", {"route": "(", "status": 500})
        self.assertEqual(status, 400)
        self.assertIn("regular expression", body["error"])

    def test_batch(self):
        emulator = self.start()
        token = self.tokens_for(emulator)["access_token"]
        emulator.control("POST", "/faults", {"route": "select=displayName", "status": 500})
        status, headers, body = self.graph(emulator, "POST", "/$batch", token, {"requests": [
            {"id": "b", "method": "GET", "url": "/me?$select=id", "dependsOn": ["a"]},
            {"id": "a", "method": "GET", "url": "/me?$select=displayName"},
            {"id": "c", "method": "GET", "url": "/me?$select=id,mail"},
            {"id": "d", "method": "GET", "url": "/users/nobody@outlook.com"}]})
        self.assertEqual(status, 200, body)
        self.assertEqual(headers["OData-Version"], "4.0")
        items = {item["id"]: item for item in body["responses"]}
        self.assertEqual(items["a"]["status"], 500)
        self.assertEqual(items["b"]["status"], 424)  # ran after "a", whose failure it inherits
        self.assertEqual(items["c"]["status"], 200)
        self.assertEqual(set(items["c"]["body"]), {"@odata.context", "id", "mail"})
        self.assertEqual(items["d"]["status"], 404)
        self.assertEqual(items["d"]["body"]["error"]["code"], "Request_ResourceNotFound")

        too_many = {"requests": [{"id": str(i), "method": "GET", "url": "/me"} for i in range(21)]}
        status, _, body = self.graph(emulator, "POST", "/$batch", token, too_many)
        self.assertEqual(status, 400)
        self.assertEqual(body["error"]["code"], "BadRequest")
        status, _, body = self.graph(emulator, "POST", "/$batch", token, {"requests": too_many["requests"][:20]})
        self.assertEqual(status, 200)
        self.assertEqual(len(body["responses"]), 20)

    def test_stats_count_graph_and_token_requests(self):
        emulator = self.start()
        tokens = self.tokens_for(emulator)
        status, stats = emulator.control("GET", "/stats")
        self.assertEqual(stats["token_requests"], 1)
        self.assertEqual(stats["authorize_requests"], 1)
        self.assertEqual(emulator.control("POST", "/stats/reset")[0], 200)
        for _ in range(3):
            self.graph(emulator, "GET", "/me", tokens["access_token"])
        self.graph(emulator, "GET", "/me/mailFolders/inbox/messages?$top=1", "not-a-token")
        self.refresh(emulator, tokens["refresh_token"])
        _, stats = emulator.control("GET", "/stats")
        self.assertEqual(stats["graph_requests"], 4)
        self.assertEqual(stats["token_requests"], 1)
        self.assertEqual(stats["throttled"], 0)
        self.assertEqual(stats["by_route"]["GET /me"], 3)
        self.assertEqual(stats["by_route"]["GET /me/mailFolders/{id}/messages"], 1)
        self.assertEqual(stats["max_in_flight"][PERSONAL], 1)

    def test_control_api_errors_are_clear(self):
        emulator = self.start()
        status, body = emulator.control("POST", "/users/nobody@outlook.com/revoke")
        self.assertEqual(status, 404)
        self.assertIn("nobody@outlook.com", body["error"])
        status, body = emulator.control("GET", "/no-such-route")
        self.assertEqual(status, 404)
        status, users = emulator.control("GET", "/users")
        self.assertEqual({user["address"] for user in users}, {PERSONAL, WORK})


if __name__ == "__main__":
    unittest.main()

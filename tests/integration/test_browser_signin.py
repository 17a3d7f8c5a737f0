"""The sign-in in a real browser: Debian's chromium (headless), driven by playwright-core from
tests/browser/, clicks Add Account and the Outlook tile, fills the emulator's Microsoft form and
reads the success page. The screenshot is kept in tests/artifacts/signin-success.png.

Nothing is skipped: a missing chromium or missing node modules fail the test with what to run.
"""

import json
import os
import shutil
import subprocess

from harness import SOURCE_DIR, TestCase
import signin_harness as S

BROWSER_DIR = os.path.join(SOURCE_DIR, "tests", "browser")
ARTIFACTS = os.path.join(SOURCE_DIR, "tests", "artifacts")
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


class BrowserSignInTest(TestCase):
    def test_sign_in_in_chromium(self):
        node = shutil.which("node")
        self.assertIsNotNone(node, "node is missing: run scripts/deps.sh")
        self.assertTrue(os.path.exists(CHROMIUM), f"{CHROMIUM} is missing: run scripts/deps.sh (Debian package chromium)")
        self.assertTrue(os.path.isdir(os.path.join(BROWSER_DIR, "node_modules", "playwright-core")),
                        "playwright-core is missing: run npm ci --prefix tests/browser (make test does)")

        world = S.SignInWorld(self.home)
        self.addCleanup(world.close)
        world.start_bridge()
        screenshot = os.path.join(ARTIFACTS, "signin-success.png")
        if os.path.exists(screenshot):
            os.remove(screenshot)
        result = subprocess.run(
            [node, os.path.join(BROWSER_DIR, "signin.mjs"), world.public_url, S.USER, S.USER_PASSWORD, screenshot],
            capture_output=True, text=True, timeout=240, env=dict(os.environ, CHROMIUM=CHROMIUM))
        self.assertEqual(result.returncode, 0,
                         f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}\nbridge:\n{world.bridge.output()[-3000:]}")
        outcome = json.loads(result.stdout.strip().splitlines()[-1])
        self.assertEqual(outcome["username"], S.USER)
        self.assertEqual(outcome["url"], world.redirect_uri)
        self.assertTrue(os.path.getsize(screenshot) > 10000, "the screenshot is missing or empty")

        verified = world.cli("accounts", "verify-password", S.USER, stdin=outcome["password"] + "\n")
        self.assertEqual(verified.returncode, 0, verified.stderr)

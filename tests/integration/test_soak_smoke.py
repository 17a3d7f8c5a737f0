"""A short run of the soak test (tests/soak/soak.py, `make soak`) so the script cannot rot: the
same code path as the 10-minute run, scaled down to fit `make test` (about 45 s in the normal
build, less under ASan+UBSan, where everything is several times slower)."""

import json
import mmap
import os
import subprocess
import sys
import tempfile
import unittest

from harness import BIN, SOURCE_DIR

SOAK = os.path.join(SOURCE_DIR, "tests", "soak", "soak.py")


def sanitized(binary):
    """True for a binary built with -DMAILTRIXY_SANITIZE=ON (it carries ASan's runtime)."""
    with open(binary, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
        return data.find(b"__asan_init") != -1


class SoakSmokeTest(unittest.TestCase):
    def test_short_soak_passes_with_every_message_accounted_for(self):
        build = os.path.dirname(os.path.abspath(BIN))
        if sanitized(BIN):
            scale = ["--seconds", "15", "--connections", "40", "--smtp-senders", "1", "--messages", "30"]
        else:
            scale = ["--seconds", "30", "--connections", "100", "--smtp-senders", "2", "--messages", "60"]
        with tempfile.TemporaryDirectory(prefix="mailtrixy-soak-smoke-") as directory:
            report_path = os.path.join(directory, "report.json")
            result = subprocess.run(
                [sys.executable, SOAK, "--build", build, "--accounts", "2", "--think", "2",
                 "--smtp-think", "1", "--json", report_path, *scale],
                capture_output=True, text=True, timeout=240)
            output = result.stdout + result.stderr
            self.assertEqual(result.returncode, 0, output[-8000:])
            with open(report_path) as f:
                report = json.load(f)
        self.assertTrue(report["passed"], output[-8000:])
        self.assertEqual(report["errors"]["count"], 0)
        messages = report["messages"]
        self.assertGreater(messages["smtp_accepted"], 0, output[-4000:])
        self.assertEqual(messages["smtp_in_sent_exactly_once"], messages["smtp_accepted"])
        self.assertEqual(messages["smtp_delivered_to_accounts"], messages["smtp_to_accounts"])
        self.assertEqual(messages["appended_found"], messages["appended"])
        for command in ("LOGIN", "SELECT", "FETCH_FLAGS", "SEARCH", "STORE", "IDLE", "DONE", "SMTP_SEND"):
            self.assertGreater(report["commands"].get(command, {}).get("count", 0), 0, command)
        self.assertGreater(report["rss"]["bridge"]["samples"], 3)
        # The memory parts the leak check subtracts come from the bridge's /metrics.
        for part in ("store_block_cache", "store_memtables", "heap_in_use"):
            self.assertGreater(len(report["samples"].get(part, [])), 1, part)


if __name__ == "__main__":
    unittest.main()

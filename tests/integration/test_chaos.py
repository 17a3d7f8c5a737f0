"""The short, deterministic version of `make chaos` (docs/chaos.md): kill -9 of the bridge in the
middle of each kind of operation (initial sync, sync, APPEND, MOVE, EXPUNGE, SMTP delivery) with a
fixed seed, and a subset of the Graph-fault suite. The full run is `make chaos`.
"""

import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "chaos"))
import chaos  # noqa: E402

SEED = 20261128


class ChaosTest(unittest.TestCase):
    def test_kill_rounds_keep_uids_and_every_accepted_message(self):
        # One round per operation, after the kill during the initial sync.
        report = chaos.run(None, rounds=len(chaos.KillRounds.OPERATIONS), seed=SEED, phase="kills",
                           quick=True, cycle=True)
        summary = report.summary(SEED)
        print(summary)
        self.assertEqual(report.violations, [], summary)
        self.assertEqual(sum(report.kills.values()), len(chaos.KillRounds.OPERATIONS) + 1, summary)
        self.assertEqual(set(report.rounds), {"initial-sync", *chaos.KillRounds.OPERATIONS}, summary)
        self.assertGreater(report.checks, 2 * len(chaos.KillRounds.OPERATIONS), summary)

    def test_graph_faults_end_in_retries_or_clear_answers(self):
        faults = ("429-storm", "truncated", "expired-token")
        operations = ("fetch", "append", "smtp")
        report = chaos.run(None, rounds=0, seed=SEED, phase="faults", quick=True,
                           only_faults=(faults, operations))
        summary = report.summary(SEED)
        print(summary)
        self.assertEqual(report.violations, [], summary)
        self.assertEqual({(fault, operation) for fault, operation, _, _ in report.faults},
                         {(f, o) for f in faults for o in operations} - {("truncated", "fetch")}, summary)


if __name__ == "__main__":
    unittest.main()

#!/usr/bin/env python3
"""Sync benchmark: `mailtrixy serve` signed in to the emulator, measuring

1. the initial sync of a 10,000-message INBOX (plus 19 small folders): wall time from the
   sign-in callback until `mailtrixy mailbox folders` shows every folder synced, the Graph
   requests it took (emulator /_emulator/stats) against the minimum the delta page size allows
   (ceil(messages / page) per folder, at least 1, plus the folder-tree calls), and the bridge's
   peak RSS;
2. steady state: Graph requests per minute for the idle mailbox (20 folders, nobody watching)
   at the shipped poll_interval (60 s), and apart from it the background size learning's
   downloads (ADR 0006), which stop once every size is known.

Usage: sync_bench.py BUILD_DIR [--messages N] [--steady-seconds S]. Prints numbers; never fails on
speed (only when the sync does not complete).
"""

import argparse
import math
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

PAGE_SIZE = 200  # graph::GraphRemoteMailboxOptions::delta_page_size


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("build", nargs="?", default="build")
    parser.add_argument("--messages", type=int, default=10000)
    parser.add_argument("--steady-seconds", type=int, default=120)
    args = parser.parse_args()
    build = os.path.abspath(args.build)
    os.environ["MAILTRIXY_BIN"] = os.path.join(build, "mailtrixy")
    os.environ["MAILTRIXY_EMULATOR_BIN"] = os.path.join(build, "mailtrixy-emulator")
    os.environ.setdefault("MAILTRIXY_SOURCE_DIR", os.path.join(HERE, "..", ".."))

    import harness
    import signin_harness as S

    home = harness.TempHome()
    world = None
    try:
        seed = home.file("seed")
        os.makedirs(seed)
        body = "x" * 2000 + "\r\n"
        for i in range(args.messages):
            with open(os.path.join(seed, f"{i:06}.eml"), "w") as f:
                f.write(f"From: Carol <carol@example.com>\r\nTo: {S.USER}\r\nSubject: bench {i}\r\n"
                        f"Date: Mon, 02 Mar 2026 10:00:00 +0000\r\nMessage-ID: <bench{i}@example.com>\r\n\r\n{body}")
        for n in range(8):  # with the emulator's 12 default folders (INBOX included): 20
            folder = os.path.join(seed, f"Folder {n:02}")
            os.makedirs(folder)
            with open(os.path.join(folder, "a.eml"), "w") as f:
                f.write(f"From: c@example.com\r\nSubject: folder {n}\r\n\r\nhi\r\n")

        world = S.SignInWorld(home, emulator_args=["--seed", f"{S.USER}={seed}"])
        world.start_bridge()
        world.emulator.control("POST", "/stats/reset")
        started = time.monotonic()
        page, _ = world.sign_in(world.browser())
        assert page.status == 200, page.text

        def folders():
            result = world.cli("mailbox", "folders", S.USER)
            if result.returncode != 0:
                return {}
            rows = [line.split("\t") for line in result.stdout.splitlines()[1:] if line]
            return {row[6]: (int(row[2]), row[4] == "yes") for row in rows}

        deadline = started + 600
        state = {}
        while time.monotonic() < deadline:
            state = folders()
            if state.get("INBOX", (0, False)) == (args.messages, True) and all(s for _, s in state.values()):
                break
            time.sleep(0.5)
        else:
            raise SystemExit(f"the initial sync did not complete in 600 s: {state}")
        wall = time.monotonic() - started
        _, stats = world.emulator.control("GET", "/stats")
        graph = stats["graph_requests"]
        delta = sum(n for route, n in stats["by_route"].items() if "delta" in route)
        other = graph - delta
        minimum_delta = sum(max(1, math.ceil(count / PAGE_SIZE)) for count, _ in state.values())
        with open(f"/proc/{world.bridge.process.pid}/status") as f:
            peak_kib = next(int(line.split()[1]) for line in f if line.startswith("VmHWM:"))
        print(f"  initial sync: {args.messages} INBOX messages, {len(state)} folders in all, in {wall:.1f} s")
        print(f"  Graph requests: {graph} ({delta} delta pages, minimum {minimum_delta} at page size {PAGE_SIZE}:"
              f" {100.0 * (delta - minimum_delta) / minimum_delta:+.1f}%; {other} folder/other calls)")
        print(f"  bridge peak RSS: {peak_kib / 1024:.1f} MiB; max in flight: {stats['max_in_flight']}")

        world.emulator.control("POST", "/stats/reset")
        time.sleep(args.steady_seconds)
        _, stats = world.emulator.control("GET", "/stats")
        learning = sum(n for route, n in stats["by_route"].items() if "$value" in route)
        per_minute = (stats["graph_requests"] - learning) * 60.0 / args.steady_seconds
        print(f"  steady state (idle, {len(state)} folders, poll_interval 60 s): "
              f"{per_minute:.1f} Graph requests/min over {args.steady_seconds} s "
              f"(Graph's limit: 1000/min per mailbox)")
        print(f"  plus background size learning (sync.size_learning_per_minute 300) while sizes are unknown: "
              f"{learning * 60.0 / args.steady_seconds:.1f} $value requests/min; it stops once every size is known")
    finally:
        if world:
            world.close()
        home.cleanup()


if __name__ == "__main__":
    main()

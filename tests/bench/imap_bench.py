#!/usr/bin/env python3
"""IMAP benchmark: `mailtrixy serve` signed in to the emulator, with Dovecot (dovecot-imapd)
serving the same messages from a Maildir as the baseline, measured in the same run:

1. `UID FETCH 1:* (UID FLAGS RFC822.SIZE INTERNALDATE ENVELOPE)` on a synced 10,000-message
   INBOX: seconds for the bridge and for Dovecot, best of 3, and their ratio;
2. SELECT of a 100,000-message folder (bridge / Dovecot, best of 3);
3. 1,000 concurrent idle IMAP connections (logged in, INBOX selected), in a fresh bridge with a
   small mailbox: the bridge's RSS growth per connection, split into the connection, the login
   and the SELECT;
4. commands/s with 10 concurrent clients running a mixed workload (NOOP, UID FETCH of flags and
   envelope, UID SEARCH, STATUS, UID FETCH BODY.PEEK[], UID STORE of a flag) for 10 s, bridge and
   Dovecot.

Both servers are driven over plain TCP on loopback with the same small client, so TLS is not in
the numbers. Usage: imap_bench.py BUILD_DIR [--fetch-messages N] [--select-messages N]
[--connections N] [--seconds S]. Prints numbers; never fails on speed (only when a server does not
come up or a sync does not complete).
"""

import argparse
import os
import random
import resource
import socket
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))


class Client:
    """Just enough IMAP over a plain socket: tagged commands, responses read until the tag."""

    def __init__(self, port, timeout=300):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.file = self.sock.makefile("rb", buffering=1 << 16)
        self.tag = 0
        self.file.readline()  # greeting

    def command(self, text):
        self.tag += 1
        tag = f"t{self.tag}".encode()
        self.sock.sendall(tag + b" " + text.encode() + b"\r\n")
        received = 0
        while True:
            line = self.file.readline()
            if not line:
                raise RuntimeError(f"connection closed during {text!r}")
            received += len(line)
            if line.endswith(b"}\r\n"):  # a literal follows
                size = int(line[line.rindex(b"{") + 1:-3])
                received += len(self.file.read(size))
                continue
            if line.startswith(tag + b" "):
                if not line.startswith(tag + b" OK"):
                    raise RuntimeError(f"{text!r}: {line!r}")
                return received

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def best_of(runs, action):
    best = None
    for _ in range(runs):
        started = time.perf_counter()
        action()
        elapsed = time.perf_counter() - started
        best = elapsed if best is None else min(best, elapsed)
    return best


def bench_message(i, size=2000):
    return (f"From: Carol Example <carol{i % 50}@example.com>\r\nTo: Alice <alice.smith@outlook.com>\r\n"
            f"Subject: bench message {i}\r\nDate: Mon, 02 Mar 2026 10:{i % 60:02}:00 +0000\r\n"
            f"Message-ID: <bench{i}@example.com>\r\nMIME-Version: 1.0\r\n"
            f"Content-Type: text/plain; charset=utf-8\r\n\r\n" + "x" * size + "\r\n").encode()


def write_seed(directory, messages, folder=None, size=2000):
    target = os.path.join(directory, folder) if folder else directory
    os.makedirs(target, exist_ok=True)
    for i in range(messages):
        with open(os.path.join(target, f"{i:06}.eml"), "wb") as f:
            f.write(bench_message(i, size))


def mixed_workload(port, login, seconds, clients, messages):
    """Commands/s of `clients` threads, each on its own connection, for `seconds`."""
    counts = [0] * clients
    errors = []
    stop = time.monotonic() + seconds
    barrier = threading.Barrier(clients)

    def run(n):
        try:
            client = Client(port)
            client.command(login)
            client.command("SELECT INBOX")
            rng = random.Random(n)
            barrier.wait()
            done = 0
            while time.monotonic() < stop:
                uid = rng.randint(1, messages)
                choice = done % 6
                if choice == 0:
                    client.command("NOOP")
                elif choice == 1:
                    client.command(f"UID FETCH {uid}:{uid + 20} (UID FLAGS ENVELOPE)")
                elif choice == 2:
                    client.command(f'UID SEARCH SUBJECT "message {uid}"')
                elif choice == 3:
                    client.command("STATUS INBOX (MESSAGES UNSEEN UIDNEXT)")
                elif choice == 4:
                    client.command(f"UID FETCH {uid} (BODY.PEEK[])")
                else:
                    client.command(f"UID STORE {uid} {'+' if done % 12 == 5 else '-'}FLAGS.SILENT (\\Flagged)")
                done += 1
            counts[n] = done
            client.command("LOGOUT")
            client.close()
        except Exception as error:  # reported below; the benchmark only prints
            errors.append(repr(error))

    threads = [threading.Thread(target=run, args=(n,)) for n in range(clients)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = max(time.monotonic() - started, 0.001)
    if errors:
        print(f"    errors: {errors[:3]}")
    return sum(counts) / min(elapsed, seconds + 1)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("build", nargs="?", default="build")
    parser.add_argument("--fetch-messages", type=int, default=10000)
    parser.add_argument("--select-messages", type=int, default=100000)
    parser.add_argument("--connections", type=int, default=1000)
    parser.add_argument("--seconds", type=int, default=10)
    args = parser.parse_args()
    build = os.path.abspath(args.build)
    os.environ["MAILTRIXY_BIN"] = os.path.join(build, "mailtrixy")
    os.environ["MAILTRIXY_EMULATOR_BIN"] = os.path.join(build, "mailtrixy-emulator")
    os.environ.setdefault("MAILTRIXY_SOURCE_DIR", os.path.join(HERE, "..", ".."))
    # 1,000 client sockets here and as many in the bridge (it inherits the limit).
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = min(hard, max(soft, 4 * args.connections + 256))
    resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))

    import harness
    import imap_harness as H
    import signin_harness as S
    from dovecot import DovecotServer

    if not DovecotServer.available():
        print("  dovecot is not installed (scripts/deps.sh installs dovecot-imapd); no baseline")

    home = harness.TempHome()
    world = None
    try:
        seed = home.file("seed")
        write_seed(seed, args.fetch_messages)
        write_seed(seed, args.select_messages, folder="Big", size=100)
        world = H.ImapWorld(home, emulator_args=["--seed", f"{S.USER}={seed}"])
        started = time.monotonic()
        world.start()
        login = f'LOGIN "{S.USER}" "{world.password}"'

        def synced_count(folder):
            client = Client(world.imap_port)
            try:
                client.command(login)
                client.sock.sendall(f'x1 EXAMINE "{folder}"\r\n'.encode())
                count = 0
                while True:
                    line = client.file.readline()
                    if line.endswith(b" EXISTS\r\n"):
                        count = int(line.split()[1])
                    if line.startswith(b"x1 "):
                        return count
            finally:
                client.close()

        deadline = time.monotonic() + 900
        while time.monotonic() < deadline:
            if synced_count("INBOX") == args.fetch_messages and synced_count("Big") == args.select_messages:
                break
            time.sleep(2)
        else:
            raise SystemExit(f"the initial sync did not complete; INBOX {synced_count('INBOX')}, Big {synced_count('Big')}")
        print(f"  initial sync of {args.fetch_messages + args.select_messages} messages: {time.monotonic() - started:.1f} s")

        bridge = Client(world.imap_port)
        bridge.command(login)
        bridge.command("SELECT INBOX")
        fetch_bytes = [0]

        def bridge_fetch():
            fetch_bytes[0] = bridge.command("UID FETCH 1:* (UID FLAGS RFC822.SIZE INTERNALDATE ENVELOPE)")
        bridge_fetch_s = best_of(3, bridge_fetch)
        bridge_select_s = best_of(3, lambda: bridge.command('SELECT "Big"'))
        bridge.command("LOGOUT")
        bridge.close()

        dovecot_fetch_s = dovecot_select_s = None
        dovecot_rate = None
        if DovecotServer.available():
            with DovecotServer() as dovecot:
                port, user, password = dovecot.start([bench_message(i) for i in range(args.fetch_messages)])
                client = Client(port)
                client.command(f'LOGIN "{user}" "{password}"')
                client.command("SELECT INBOX")
                client.command("UID FETCH 1:* (UID FLAGS RFC822.SIZE INTERNALDATE ENVELOPE)")  # build its index
                dovecot_fetch_s = best_of(
                    3, lambda: client.command("UID FETCH 1:* (UID FLAGS RFC822.SIZE INTERNALDATE ENVELOPE)"))
                client.command("LOGOUT")
                client.close()
                dovecot_rate = mixed_workload(port, f'LOGIN "{user}" "{password}"', args.seconds, 10,
                                              args.fetch_messages)
            with DovecotServer() as dovecot:
                port, user, password = dovecot.start([bench_message(i, 100) for i in range(args.select_messages)])
                client = Client(port)
                client.command(f'LOGIN "{user}" "{password}"')
                client.command("SELECT INBOX")  # the first SELECT builds Dovecot's index
                client.command("UNSELECT")
                dovecot_select_s = best_of(3, lambda: client.command("SELECT INBOX"))
                client.command("LOGOUT")
                client.close()

        def ratio(ours, theirs):
            return f"{ours / theirs:.2f}x Dovecot" if theirs else "no baseline"

        print(f"  UID FETCH 1:* (UID FLAGS RFC822.SIZE INTERNALDATE ENVELOPE), {args.fetch_messages} messages, "
              f"{fetch_bytes[0] / 1e6:.1f} MB: bridge {bridge_fetch_s * 1000:.0f} ms"
              + (f", Dovecot {dovecot_fetch_s * 1000:.0f} ms" if dovecot_fetch_s else "")
              + f" ({ratio(bridge_fetch_s, dovecot_fetch_s)})")
        print(f"  SELECT of {args.select_messages} messages: bridge {bridge_select_s * 1000:.0f} ms"
              + (f", Dovecot {dovecot_select_s * 1000:.0f} ms" if dovecot_select_s else "")
              + f" ({ratio(bridge_select_s, dovecot_select_s)})")

        bridge_rate = mixed_workload(world.imap_port, login, args.seconds, 10, args.fetch_messages)
        print(f"  mixed workload, 10 clients, {args.seconds} s: bridge {bridge_rate:.0f} commands/s"
              + (f", Dovecot {dovecot_rate:.0f} commands/s ({bridge_rate / dovecot_rate:.2f}x Dovecot)"
                 if dovecot_rate else ""))

    finally:
        if world is not None:
            world.close()
        home.cleanup()
    idle_connections(args)


def idle_connections(args):
    """RSS per idle connection, in a fresh bridge with a 100-message INBOX: the big world's RSS
    still moves (caches, compaction) long after its sync, which would drown 1,000 connections."""
    import harness
    import imap_harness as H
    import signin_harness as S

    home = harness.TempHome()
    world = None
    try:
        seed = home.file("seed")
        write_seed(seed, 100)
        world = H.ImapWorld(home, emulator_args=["--seed", f"{S.USER}={seed}"])
        world.start()
        world.wait_for_messages("INBOX", 100, timeout=120)
        login = f'LOGIN "{S.USER}" "{world.password}"'
        pid = world.bridge.process.pid
        time.sleep(3)
        idle = []
        try:
            steps = [rss_kib(pid)]
            for _ in range(args.connections):
                idle.append(Client(world.imap_port))
            time.sleep(1)
            steps.append(rss_kib(pid))
            for client in idle:
                client.command(login)
            time.sleep(1)
            steps.append(rss_kib(pid))
            for client in idle:
                client.command("SELECT INBOX")
            time.sleep(1)
            steps.append(rss_kib(pid))
            per = [(after - before) / args.connections for before, after in zip(steps, steps[1:])]
            print(f"  {args.connections} idle connections (INBOX of 100 messages selected): bridge RSS "
                  f"{steps[0] / 1024:.1f} -> {steps[-1] / 1024:.1f} MiB, "
                  f"{(steps[-1] - steps[0]) / args.connections:.1f} KiB per connection: "
                  f"{per[0]:.1f} KiB the connection, {per[1]:.1f} KiB the login, {per[2]:.1f} KiB the SELECT")
        finally:
            for client in idle:
                client.close()
    finally:
        if world is not None:
            world.close()
        home.cleanup()


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""SMTP submission benchmark: `mailtrixy serve` signed in to the emulator.

1. 1,000 messages of 20 KB from 10 concurrent SMTP clients (smtplib, STARTTLS, AUTH, one
   connection per client): accepted messages/s, p50/p99 time from the end of DATA to the
   "250 queued as" (that includes the synced RocksDB write), and the time until the emulator's
   /sent record holds all of them (the queue's delivery through Graph);
2. the baseline, in the same run: the same 1,000 messages POSTed straight to the emulator's
   /me/sendMail (base64 MIME) by 10 threads with the same access token, over keep-alive TLS,
   honouring 429 Retry-After like any client must (Graph allows 4 requests in flight per mailbox).

Usage: smtp_bench.py BUILD_DIR [--messages N] [--clients C] [--size BYTES]. Prints numbers and the
ratio to the baseline; fails only when messages are lost or duplicated.
"""

import argparse
import base64
import http.client
import os
import smtplib
import ssl
import sys
import threading
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from percentiles import percentile  # noqa: E402 - found through the path set just above


def make_message(sender, n, size, tag):
    body_line = ("%s message %06d " % (tag, n)).ljust(76, "x") + "\r\n"
    body = body_line * max(1, size // len(body_line))
    return (f"From: {sender}\r\nTo: bench-{n % 17}@example.com\r\nSubject: {tag} {n}\r\n"
            f"Message-ID: <{tag}-{n}-{time.time_ns()}@bench.example>\r\n\r\n{body}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("build", nargs="?", default="build")
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--size", type=int, default=20 * 1024)
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
        world = S.SignInWorld(home)
        world.start_bridge()
        page, _ = world.sign_in(world.browser())
        password = S.extract(r'<code id="bridge-password"[^>]*>([^<]+)</code>', page.text)
        context = ssl.create_default_context(cafile=home.file("certs", "server.crt"))
        context.check_hostname = False

        per_client = args.messages // args.clients
        total = per_client * args.clients
        latencies = []
        errors = []
        lock = threading.Lock()

        def client(index):
            try:
                smtp = smtplib.SMTP("127.0.0.1", world.smtp_port, timeout=120)
                smtp.ehlo("bench.example")
                smtp.starttls(context=context)
                smtp.ehlo("bench.example")
                smtp.login(S.USER, password)
                for i in range(per_client):
                    n = index * per_client + i
                    message = make_message(S.USER, n, args.size, "bridge").encode()
                    smtp.mail(S.USER)
                    smtp.rcpt(f"bench-{n % 17}@example.com")
                    started = time.perf_counter()
                    code, reply = smtp.data(message)
                    elapsed = time.perf_counter() - started
                    if code != 250:
                        raise RuntimeError(f"DATA answered {code} {reply!r}")
                    with lock:
                        latencies.append(elapsed)
                smtp.quit()
            except Exception as error:  # noqa: BLE001 - reported below
                with lock:
                    errors.append(repr(error))

        started = time.perf_counter()
        threads = [threading.Thread(target=client, args=(i,)) for i in range(args.clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        accepted_seconds = time.perf_counter() - started
        if errors:
            raise SystemExit("SMTP clients failed: " + "; ".join(errors[:5]))

        def sent_count():
            _, sent = world.emulator.control("GET", f"/users/{S.USER}/sent")
            return len(sent)

        while sent_count() < total:
            if time.perf_counter() - started > 900:
                raise SystemExit(f"only {sent_count()} of {total} messages were delivered after 15 minutes")
            time.sleep(0.2)
        delivered_seconds = time.perf_counter() - started
        time.sleep(2)
        if sent_count() != total:
            raise SystemExit(f"{sent_count()} messages at Microsoft for {total} submitted: duplicates")

        print(f"  bridge:   {total} messages of {args.size} bytes from {args.clients} SMTP clients")
        print(f"            accepted {total / accepted_seconds:.1f} messages/s "
              f"(all 250s after {accepted_seconds:.2f} s)")
        print(f"            time to 250: p50 {percentile(latencies, 50) * 1000:.1f} ms, "
              f"p99 {percentile(latencies, 99) * 1000:.1f} ms")
        print(f"            all delivered to Microsoft after {delivered_seconds:.2f} s "
              f"({total / delivered_seconds:.1f} messages/s end to end)")

        # ---- baseline: straight to Graph sendMail with the bridge's own access token ----------
        _, tokens = world.emulator.control("GET", "/tokens")
        token = [t for t in tokens["access_tokens"] if t["user"] == S.USER and not t["expired"]][-1]["token"]
        host = urllib.parse.urlparse(world.emulator.url)
        graph_context = ssl.create_default_context(cafile=world.emulator.cert)
        throttled = [0]

        def direct(index):
            connection = http.client.HTTPSConnection(host.hostname, host.port, context=graph_context, timeout=120)
            for i in range(per_client):
                n = index * per_client + i
                body = base64.b64encode(make_message(S.USER, n, args.size, "direct").encode())
                while True:
                    connection.request("POST", "/v1.0/me/sendMail", body=body,
                                       headers={"Authorization": "Bearer " + token, "Content-Type": "text/plain"})
                    response = connection.getresponse()
                    response.read()
                    if response.status == 429:
                        with lock:
                            throttled[0] += 1
                        time.sleep(float(response.getheader("Retry-After", "1")))
                        continue
                    if response.status != 202:
                        with lock:
                            errors.append(f"sendMail answered {response.status}")
                    break
            connection.close()

        started = time.perf_counter()
        threads = [threading.Thread(target=direct, args=(i,)) for i in range(args.clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        direct_seconds = time.perf_counter() - started
        if errors:
            raise SystemExit("direct sendMail failed: " + "; ".join(errors[:5]))
        print(f"  baseline: the same {total} messages straight to sendMail from {args.clients} threads: "
              f"{direct_seconds:.2f} s ({total / direct_seconds:.1f} messages/s, {throttled[0]} answers 429)")
        print(f"  ratio:    bridge end to end / direct sendMail = {delivered_seconds / direct_seconds:.2f}x; "
              f"SMTP acceptance / direct sendMail = {accepted_seconds / direct_seconds:.2f}x")
    finally:
        if world:
            world.close()
        home.cleanup()


if __name__ == "__main__":
    main()

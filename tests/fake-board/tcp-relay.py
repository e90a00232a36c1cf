#!/usr/bin/env python3
"""A TCP relay on 127.0.0.1 for the agent's tests: the agent keeps one
controller URL while the test restarts the controller on another port.

    tcp-relay.py --port-file FILE --target-file FILE

Each new connection is forwarded to 127.0.0.1:PORT, PORT read from the target
file at that moment; a target of 0 (or none) refuses connections, which looks
like a controller that went away.
"""
import argparse
import os
import socket
import threading


def pump(a, b):
    try:
        while True:
            d = a.recv(65536)
            if not d:
                break
            b.sendall(d)
    except OSError:
        pass
    for s in (a, b):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--target-file", required=True)
    a = ap.parse_args()
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(32)
    with open(a.port_file + ".tmp", "w") as f:
        f.write("%d\n" % srv.getsockname()[1])
    os.rename(a.port_file + ".tmp", a.port_file)
    while True:
        c, _ = srv.accept()
        try:
            with open(a.target_file) as f:
                port = int(f.read().strip() or "0")
        except (OSError, ValueError):
            port = 0
        if port == 0:
            c.close()
            continue
        try:
            t = socket.create_connection(("127.0.0.1", port))
        except OSError:
            c.close()
            continue
        threading.Thread(target=pump, args=(c, t), daemon=True).start()
        threading.Thread(target=pump, args=(t, c), daemon=True).start()


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""A TCP relay on 127.0.0.1 for the agent's tests: the agent keeps one
controller URL while the test restarts the controller on another port.

    tcp-relay.py --port-file FILE --target-file FILE

Each new connection is forwarded to 127.0.0.1:PORT, PORT read from the target
file at that moment; a target of 0 (or none) drops connections, which looks
like a controller that went away, and a target of "503" answers every request
"503 Service Unavailable", like a controller in trouble. When the target
changes, the connections open through the relay are cut (keep-alive
connections would otherwise go on to the old target).
"""
import argparse
import os
import socket
import threading
import time

open_socks = []
open_lock = threading.Lock()


def read_target(path):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return "0"


def cut_on_change(path):
    last = read_target(path)
    while True:
        now = read_target(path)
        if now != last:
            with open_lock:
                for s in open_socks:
                    try:
                        s.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                open_socks.clear()
            last = now
        time.sleep(0.01)


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


def unavailable(c):
    c.settimeout(2)
    data = b""
    try:
        while b"\r\n\r\n" not in data and len(data) < 65536:
            d = c.recv(65536)
            if not d:
                break
            data += d
        body = b'{"error": "unavailable"}'
        c.sendall(b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
                  b"Connection: close\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
    except OSError:
        pass
    c.close()


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
    threading.Thread(target=cut_on_change, args=(a.target_file,), daemon=True).start()
    while True:
        c, _ = srv.accept()
        target = read_target(a.target_file)
        if target == "503":
            threading.Thread(target=unavailable, args=(c,), daemon=True).start()
            continue
        try:
            port = int(target or "0")
        except ValueError:
            port = 0
        if port == 0:
            c.close()
            continue
        try:
            t = socket.create_connection(("127.0.0.1", port))
        except OSError:
            c.close()
            continue
        with open_lock:
            open_socks.extend([c, t])
        threading.Thread(target=pump, args=(c, t), daemon=True).start()
        threading.Thread(target=pump, args=(t, c), daemon=True).start()


if __name__ == "__main__":
    main()

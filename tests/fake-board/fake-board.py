#!/usr/bin/env python3
"""A fake test board for the agent's integration tests.

It serves its "serial console" as a raw TCP server (like ser2net) and "boots"
when its power file says "on": it then plays a console script to every
connected client, with partial lines, long lines, binary bytes and stalls.
With --pdu-port-file it also answers PDUDaemon's HTTP API
(GET /power/control/{on,off,reboot}?hostname=H&port=N), switching the same
power file, so the agent's pdudaemon backend drives it.

    fake-board.py --state DIR --port-file FILE [--pdu-port-file FILE] [--pty-file FILE]

With --pty-file the console is also a pty, as a UART is to ser2net: the board
writes to its master and FILE names its slave (/dev/pts/N) for ser2net's
connector.

DIR/power   "on" or "off" (the command power backend writes it)
DIR/actions optional, one line per power action ("on", "off"): an "off" there
            between two reads of an "on" power file is a power cycle
DIR/script  the console script, one command per line:
    line TEXT     TEXT and "\\r\\n"
    part TEXT     TEXT without a line end (the rest comes later)
    hex HEX       raw bytes
    long N        a line of N 'x' characters
    sleep MS      a stall
    mark NAME     writes the wall-clock time to DIR/mark-NAME, then goes on
    close         drops the console connections
DIR/pdu.log  every PDU request, one per line
DIR/input    what the console's clients sent, as it came
While powered the board answers its console as a shell would: it echoes what
comes and, at the end of a line, writes "you typed: LINE" and a "=> " prompt.
Only 127.0.0.1 is served; the process ends on SIGTERM.
"""
import argparse
import http.server
import os
import socket
import threading
import time
import urllib.parse

clients = []
clients_lock = threading.Lock()
powered = [False]


pty_master = None


def send(data):
    if pty_master is not None:
        # blocking: ser2net reads the line at its own pace, nothing is dropped
        with clients_lock:
            view = memoryview(data)
            while view:
                n = os.write(pty_master, view)
                view = view[n:]
    with clients_lock:
        for c in list(clients):
            try:
                c.sendall(data)
            except OSError:
                clients.remove(c)


def play(state, gen, current):
    # the agent connects before it powers on, but this server may not have
    # accepted that connection yet: wait for it (a real UART would have
    # buffered nothing either, but then the agent would be at fault)
    end = time.monotonic() + 2
    while pty_master is None and time.monotonic() < end:
        with clients_lock:
            if clients:
                break
        time.sleep(0.002)
    try:
        with open(os.path.join(state, "script")) as f:
            script = f.read().splitlines()
    except OSError:
        script = ["line fake board: no script"]
    for cmd in script:
        if current[0] != gen:
            return  # powered off (or cycled) meanwhile
        op, _, arg = cmd.partition(" ")
        if op == "line":
            send(arg.encode() + b"\r\n")
        elif op == "part":
            send(arg.encode())
        elif op == "hex":
            send(bytes.fromhex(arg))
        elif op == "long":
            send(b"x" * int(arg) + b"\n")
        elif op == "sleep":
            end = time.monotonic() + int(arg) / 1000.0
            while time.monotonic() < end and current[0] == gen:
                time.sleep(0.005)
        elif op == "mark":
            with open(os.path.join(state, "mark-" + arg), "w") as m:
                m.write("%.6f\n" % time.time())
        elif op == "close":
            with clients_lock:
                for c in clients:
                    c.close()
                clients.clear()


def set_power(state, value):
    tmp = os.path.join(state, ".power.tmp")
    with open(tmp, "w") as f:
        f.write(value + "\n")
    os.rename(tmp, os.path.join(state, "power"))


def offs(state):
    # how many "off" lines the power commands recorded in DIR/actions (the
    # harness's fake lab records each on and off there), or 0
    try:
        with open(os.path.join(state, "actions")) as f:
            return sum(1 for line in f if line.strip() == "off")
    except OSError:
        return 0


def watch_power(state):
    current = [0]
    last = "off"
    last_offs = offs(state)
    while True:
        try:
            with open(os.path.join(state, "power")) as f:
                now = f.read().strip() or "off"
        except OSError:
            now = "off"
        # an off then an on quicker than this poll reads the same "on" twice:
        # an off recorded in between still makes it a new power-on (a cycle)
        n = offs(state)
        if n != last_offs and now == "on" and last == "on":
            last = "off"
        last_offs = n
        if now != last:
            powered[0] = now == "on"
            current[0] += 1
            if now == "on":
                threading.Thread(target=play, args=(state, current[0], current),
                                 daemon=True).start()
            last = now
        time.sleep(0.002)


def answer(state, c):
    """Reads what a client sends: kept in DIR/input, and answered while on."""
    line = b""
    while True:
        try:
            data = c.recv(4096)
        except OSError:
            return
        if not data:
            return
        with open(os.path.join(state, "input"), "ab") as f:
            f.write(data)
        if not powered[0]:
            continue
        for b in data:
            ch = bytes([b])
            if ch in (b"\r", b"\n"):
                if line:
                    send(b"\r\nyou typed: " + line + b"\r\n=> ")
                line = b""
            else:
                line += ch
                send(ch)


def console_server(port_file, state):
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    with open(port_file + ".tmp", "w") as f:
        f.write("%d\n" % srv.getsockname()[1])
    os.rename(port_file + ".tmp", port_file)
    while True:
        c, _ = srv.accept()
        c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with clients_lock:
            clients.append(c)
        threading.Thread(target=answer, args=(state, c), daemon=True).start()


def pdu_server(state, port_file):
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            u = urllib.parse.urlparse(self.path)
            q = urllib.parse.parse_qs(u.query)
            parts = u.path.strip("/").split("/")
            with open(os.path.join(state, "pdu.log"), "a") as f:
                f.write(self.path + "\n")
            if (len(parts) != 3 or parts[:2] != ["power", "control"]
                    or parts[2] not in ("on", "off", "reboot")
                    or "hostname" not in q or "port" not in q):
                self.send_response(400)
                self.end_headers()
                self.wfile.write(b"bad request\n")
                return
            if parts[2] == "off":
                set_power(state, "off")
            else:
                set_power(state, "off")
                time.sleep(0.01)
                set_power(state, "on")
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.write(b"OK - accepted request\n")

        def log_message(self, *args):
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    with open(port_file + ".tmp", "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(port_file + ".tmp", port_file)
    srv.serve_forever()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--state", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--pdu-port-file")
    ap.add_argument("--pty-file")
    a = ap.parse_args()
    if a.pdu_port_file:
        threading.Thread(target=pdu_server, args=(a.state, a.pdu_port_file),
                         daemon=True).start()
    if a.pty_file:
        global pty_master
        import pty
        import tty
        pty_master, slave = pty.openpty()
        tty.setraw(slave)  # kept open: the line stays up between ser2net's opens
        with open(a.pty_file + ".tmp", "w") as f:
            f.write(os.ttyname(slave) + "\n")
        os.rename(a.pty_file + ".tmp", a.pty_file)
    threading.Thread(target=watch_power, args=(a.state,), daemon=True).start()
    console_server(a.port_file, a.state)


if __name__ == "__main__":
    main()

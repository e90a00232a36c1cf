#!/usr/bin/env python3
"""A null-modem cable between two ttys, for the tests that put a QEMU board's
UART behind ser2net as a lab's board sits behind its USB-serial adapter.

    null-modem.py --board LINK --lab LINK

Two ptys: LINK --board names the one the board's UART opens (QEMU's
`-chardev serial,path=...`), --lab the one ser2net's serialdev connector opens.
What one side writes the other reads, both ways, byte for byte. The cable
keeps each slave open itself, so that either end may close and open again (the
board powered off and on, ser2net reconnecting) without the other side seeing a
hang-up, as a UART's lines do. Both ttys start raw; whoever opens them may set
their own line (ser2net applies RFC 2217's). No byte is dropped: when one side
does not read, the other side's writes wait. Ends on SIGTERM; the links go.
"""
import argparse
import os
import select
import signal
import sys
import tty


def make(link):
    master, slave = os.openpty()
    tty.setraw(slave)
    name = os.ttyname(slave)
    try:
        os.unlink(link)
    except FileNotFoundError:
        pass
    os.symlink(name, link)
    return master, slave


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--board", required=True)
    ap.add_argument("--lab", required=True)
    args = ap.parse_args()
    links = [args.board, args.lab]

    def stop(*_):
        for link in links:
            try:
                os.unlink(link)
            except OSError:
                pass
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    a, _sa = make(args.board)
    b, _sb = make(args.lab)
    peer = {a: b, b: a}
    while True:
        ready, _, _ = select.select([a, b], [], [])
        for fd in ready:
            try:
                data = os.read(fd, 65536)
            except OSError:
                continue  # EIO while nobody but us holds the slave: nothing to read
            view = memoryview(data)
            while view:
                n = os.write(peer[fd], view)
                view = view[n:]


if __name__ == "__main__":
    main()

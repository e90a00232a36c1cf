#!/usr/bin/env python3
"""A real SMTP server on 127.0.0.1 for the mail tests: Debian's python3-aiosmtpd.

    smtp-server.py --port-file FILE --spool DIR [--cert PEM --key PEM --user U --password P]

Binds 127.0.0.1 on a port the kernel picks and writes the port to FILE (once it
listens). Each message it accepts is written to DIR/N.eml (the bytes received)
and DIR/N.json ({"mail_from", "rcpt_tos", "tls", "login"}; written last, so its
presence says the message is whole). With --cert and --key it offers STARTTLS
and refuses MAIL before it; with --user and --password it requires AUTH (PLAIN
or LOGIN, over TLS only) with exactly those. Runs until SIGTERM or SIGINT.
"""
import argparse
import asyncio
import json
import os
import signal
import socket
import ssl

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


class Spool:
    def __init__(self, spool):
        self.spool = spool
        self.n = 0

    async def handle_DATA(self, server, session, envelope):
        self.n += 1
        base = os.path.join(self.spool, str(self.n))
        with open(base + ".eml", "wb") as f:
            f.write(envelope.original_content or envelope.content)
        meta = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "tls": session.ssl is not None,
            "login": (getattr(session.auth_data, "login", None) or b"").decode("utf-8", "replace"),
        }
        with open(base + ".tmp", "w") as f:
            json.dump(meta, f)
        os.rename(base + ".tmp", base + ".json")
        return "250 OK"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port-file", required=True)
    p.add_argument("--spool", required=True)
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--user")
    p.add_argument("--password")
    a = p.parse_args()

    ctx = None
    if a.cert:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(a.cert, a.key)

    def authenticator(server, session, envelope, mechanism, data):
        ok = (isinstance(data, LoginPassword) and a.user is not None
              and data.login == a.user.encode() and data.password == a.password.encode())
        if not ok:
            return AuthResult(success=False, handled=False)  # 535, from aiosmtpd
        return AuthResult(success=True, auth_data=data)

    handler = Spool(a.spool)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)

    def factory():
        return SMTP(handler, hostname="xenci-test", tls_context=ctx,
                    require_starttls=ctx is not None,
                    authenticator=authenticator if a.user else None,
                    auth_required=a.user is not None, auth_require_tls=True, loop=loop)

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    server = loop.run_until_complete(loop.create_server(factory, sock=sock))
    with open(a.port_file + ".tmp", "w") as f:
        f.write(str(sock.getsockname()[1]))
    os.rename(a.port_file + ".tmp", a.port_file)
    stop = loop.create_future()
    for s in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(s, lambda: stop.done() or stop.set_result(None))
    loop.run_until_complete(stop)
    server.close()
    loop.run_until_complete(server.wait_closed())
    loop.close()


if __name__ == "__main__":
    main()

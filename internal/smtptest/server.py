# A real SMTP server for reconform's e-mail tests: aiosmtpd (Debian's
# python3-aiosmtpd), with STARTTLS and AUTH when asked, saving every
# message it takes. internal/smtptest starts it; it is not part of
# reconform.
#
# usage: server.py PORT OUTDIR CERT KEY USER PASSWORD FAILFIRST
#   CERT/KEY "-": no STARTTLS; USER "-": no AUTH; FAILFIRST: answer the
#   first N messages with 451 (a server that is down, then recovers).
import json
import os
import ssl
import sys
import time

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

port, out, cert, key, user, password, failfirst = sys.argv[1:8]
failfirst = int(failfirst)
seen = {"n": 0}


class Handler:
    async def handle_DATA(self, server, session, envelope):
        seen["n"] += 1
        if seen["n"] <= failfirst:
            return "451 4.3.0 try again later"
        n = len([f for f in os.listdir(out) if f.endswith(".eml")])
        base = os.path.join(out, "msg-%03d" % n)
        with open(base + ".tmp", "wb") as f:
            f.write(envelope.original_content)
        meta = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "tls": session.ssl is not None,
            "authenticated": bool(getattr(session, "authenticated", False)),
        }
        with open(base + ".json", "w") as f:
            json.dump(meta, f)
        os.rename(base + ".tmp", base + ".eml")
        return "250 2.0.0 OK"


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = (isinstance(auth_data, LoginPassword)
          and auth_data.login == user.encode()
          and auth_data.password == password.encode())
    return AuthResult(success=ok, handled=False)


kwargs = {}
if cert != "-":
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    kwargs.update(tls_context=ctx, require_starttls=True)
if user != "-":
    kwargs.update(authenticator=authenticator, auth_require_tls=(cert != "-"))
    if cert == "-":
        kwargs.update(auth_require_tls=False)

controller = Controller(Handler(), hostname="127.0.0.1", port=int(port), **kwargs)
controller.start()
print("ready", flush=True)
try:
    sys.stdin.read()  # runs until the test closes stdin
finally:
    controller.stop()

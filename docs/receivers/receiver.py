"""A Herald receiver in plain Python 3 (standard library only).

Verifies each delivery over the raw body before trusting it, answers 204 when it is Herald's and
400 when it is not, and prints one JSON line per request. Configure with the environment:
  HERALD_SECRET   the endpoint's secret (several, comma-separated, during a rotation)
  HERALD_SCHEME   standard (default), hmac-sha256-hex or hmac-sha512-hex
  HERALD_SIGNATURE_HEADER  the hex schemes' header, x-signature by default
  PORT            where to listen, 8000 by default (0: any free port, printed first)
"""

import base64
import hashlib
import hmac
import json
import os
import sys
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

TOLERANCE_SECONDS = 300


def verify(body: bytes, headers, secrets, scheme="standard", signature_header="x-signature"):
    """Returns the event if the delivery is Herald's; raises ValueError otherwise."""
    if scheme == "standard":
        msg_id = headers.get("webhook-id")
        timestamp = headers.get("webhook-timestamp")
        signatures = headers.get("webhook-signature")
        if not (msg_id and timestamp and signatures):
            raise ValueError("missing_header")
        if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > TOLERANCE_SECONDS:
            raise ValueError("timestamp_out_of_tolerance")
        content = f"{msg_id}.{timestamp}.".encode() + body
        expected = [
            base64.b64encode(
                hmac.new(base64.b64decode(s.removeprefix("whsec_")), content, hashlib.sha256).digest()
            ).decode()
            for s in secrets
        ]
        given = [s[3:] for s in signatures.split(" ") if s.startswith("v1,")]
    else:
        algorithm = hashlib.sha256 if scheme == "hmac-sha256-hex" else hashlib.sha512
        header = headers.get(signature_header)
        if not header:
            raise ValueError("missing_header")
        expected = [hmac.new(s.encode(), body, algorithm).hexdigest() for s in secrets]
        given = [s.strip().lower() for s in header.split(",")]
    # compare_digest is constant-time; every pair is compared, a match anywhere is enough.
    if not any(hmac.compare_digest(e, g) for e in expected for g in given):
        raise ValueError("no_matching_signature")
    return json.loads(body)


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        try:
            event = verify(
                body,
                self.headers,
                os.environ["HERALD_SECRET"].split(","),
                os.environ.get("HERALD_SCHEME", "standard"),
                os.environ.get("HERALD_SIGNATURE_HEADER", "x-signature").lower(),
            )
        except ValueError as refusal:
            print(json.dumps({"verified": False, "reason": str(refusal)}), flush=True)
            self.send_response(400)
            self.end_headers()
            return
        print(json.dumps({"verified": True, "id": event["id"], "type": event["type"]}), flush=True)
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    server = HTTPServer(("127.0.0.1", int(os.environ.get("PORT", "8000"))), Receiver)
    print(json.dumps({"listening": server.server_address[1]}), flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        sys.exit(0)

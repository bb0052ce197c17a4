# Seed 003 ("Webhook") in plain Python, for machines without Flask: the same logic as
# 003_gateway.py (X-Signature, HMAC-SHA256 of the raw body, 400 on a bad signature, 200 otherwise,
# hmac.compare_digest with no guard, so a missing header is a 500), on http.server.
import hashlib
import hmac
import json
import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

WEBHOOK_SECRET = os.environ["WEBHOOK_SECRET"]


class Webhook(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def answer(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        if self.path != "/webhook":
            return self.answer(404, {"error": "Not found"})
        payload = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        try:
            signature = self.headers.get("X-Signature")
            expected_signature = hmac.new(WEBHOOK_SECRET.encode(), payload, hashlib.sha256).hexdigest()
            if not hmac.compare_digest(signature, expected_signature):
                print("Invalid signature")
                return self.answer(400, {"error": "Invalid signature"})
            event = json.loads(payload)
        except Exception as error:
            print("Error:", error)
            return self.answer(500, {"error": "Internal Server Error"})
        print("Received event:", event["type"])
        return self.answer(200, {"status": "success"})


if __name__ == "__main__":
    port = int(os.environ["PORT"])
    server = ThreadingHTTPServer(("127.0.0.1", port), Webhook)
    # The line the harness waits for, as Flask prints it.
    print(f" * Running on http://127.0.0.1:{port}")
    server.serve_forever()

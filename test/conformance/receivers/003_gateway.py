# Seed 003 ("Webhook"), its Python (Flask) receiver: the X-Signature header, the HMAC-SHA256 of the
# raw request body, 400 on a bad signature, 200 otherwise. The seed's code blocks did not survive in
# the document; this is the shape its prose describes. hmac.compare_digest gets no guard: a missing
# header makes it raise, which Flask answers 500.
import hashlib
import hmac
import os

from flask import Flask, jsonify, request

app = Flask(__name__)
WEBHOOK_SECRET = os.environ["WEBHOOK_SECRET"]


@app.route("/webhook", methods=["POST"])
def webhook():
    payload = request.get_data()
    signature = request.headers.get("X-Signature")
    expected_signature = hmac.new(WEBHOOK_SECRET.encode(), payload, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(signature, expected_signature):
        print("Invalid signature")
        return jsonify({"error": "Invalid signature"}), 400
    event = request.get_json()
    print("Received event:", event["type"])
    return jsonify({"status": "success"}), 200


if __name__ == "__main__":
    app.run(host="127.0.0.1", port=int(os.environ["PORT"]))

<?php
// A Herald receiver in plain PHP (no library). Verifies the delivery over the raw body before
// trusting it; answers 204 when it is Herald's, 400 when it is not.
//   HERALD_SECRET=whsec_... php -S 127.0.0.1:8000 receiver.php
// Not exercised by the test suite (no PHP on the CI machines); receiver.py is the tested twin.

function herald_verify(string $body, array $headers, array $secrets, string $scheme = 'standard', string $signatureHeader = 'x-signature'): array
{
    $headers = array_change_key_case($headers, CASE_LOWER);
    if ($scheme === 'standard') {
        $id = $headers['webhook-id'] ?? null;
        $timestamp = $headers['webhook-timestamp'] ?? null;
        $signatures = $headers['webhook-signature'] ?? null;
        if (!$id || !$timestamp || !$signatures) throw new RuntimeException('missing_header');
        if (!ctype_digit($timestamp) || abs(time() - (int) $timestamp) > 300) throw new RuntimeException('timestamp_out_of_tolerance');
        $expected = array_map(
            fn ($s) => base64_encode(hash_hmac('sha256', "$id.$timestamp.$body", base64_decode(preg_replace('/^whsec_/', '', $s)), true)),
            $secrets
        );
        $given = array_map(fn ($s) => substr($s, 3), array_filter(explode(' ', $signatures), fn ($s) => str_starts_with($s, 'v1,')));
    } else {
        $header = $headers[$signatureHeader] ?? null;
        if (!$header) throw new RuntimeException('missing_header');
        $algorithm = $scheme === 'hmac-sha256-hex' ? 'sha256' : 'sha512';
        $expected = array_map(fn ($s) => hash_hmac($algorithm, $body, $s), $secrets);
        $given = array_map('trim', explode(',', $header));
    }
    foreach ($expected as $e) foreach ($given as $g) if (hash_equals($e, $g)) return json_decode($body, true);
    throw new RuntimeException('no_matching_signature');
}

$body = file_get_contents('php://input'); // the raw bytes: never json_encode(json_decode(...))
try {
    $event = herald_verify(
        $body,
        getallheaders(),
        explode(',', getenv('HERALD_SECRET')),
        getenv('HERALD_SCHEME') ?: 'standard',
        strtolower(getenv('HERALD_SIGNATURE_HEADER') ?: 'x-signature')
    );
    error_log("verified {$event['type']} {$event['id']}");
    http_response_code(204);
} catch (RuntimeException $refusal) {
    error_log('refused: ' . $refusal->getMessage());
    http_response_code(400);
}

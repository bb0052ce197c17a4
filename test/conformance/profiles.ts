/**
 * One delivery profile per seed, exactly as docs/profiles.md shows them: the bodies of
 * `POST /v1/profiles`. Fields left out take the built-in default profile's values.
 */
export const seedProfiles = {
  bizflex: {
    name: "bizflex",
    description: "BizFlex Africa (seed 000): only 200 OK counts; BizFlex's live and test retry schedules.",
    success_rule: "200",
    retry_policy: { live: "live", test: "test" },
  },
  "payments-001": {
    name: "payments-001",
    description: 'Seed 001: {"event", "data"}, hex HMAC-SHA256 in x-signature, any 2xx.',
    envelope: { type_field: "event", id: false, created_at: false },
    signature_scheme: "hmac-sha256-hex",
    signature_header: "x-signature",
    success_rule: "2xx",
  },
  payflow: {
    name: "payflow",
    description: "PayFlow (seed 002): {id, type, created_at, data} with second-precision times; https only.",
    envelope: { timestamp_format: "iso-seconds" },
    signature_scheme: "hmac-sha256-hex",
    signature_header: "x-payflow-signature",
    success_rule: "2xx",
    allow_http: { test: false },
  },
  "gateway-003": {
    name: "gateway-003",
    description: "Seed 003: X-Signature, any 2xx, exponential retries for up to 24 hours.",
    signature_scheme: "hmac-sha256-hex",
    signature_header: "X-Signature",
    success_rule: "2xx",
    retry_policy: { live: "exponential", test: "exponential" },
  },
  startbutton: {
    name: "startbutton",
    description:
      'Startbutton (seed 004): {"event", "data"}, hex HMAC-SHA512 in x-startbutton-signature, 200 OK.',
    envelope: { type_field: "event", id: false, created_at: false },
    signature_scheme: "hmac-sha512-hex",
    signature_header: "x-startbutton-signature",
    success_rule: "200",
  },
} as const;

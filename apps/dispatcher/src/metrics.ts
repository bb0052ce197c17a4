import { Counter, Gauge, Histogram } from "prom-client";

/** What the dispatcher counts, on prom-client's default registry, served at `/metrics`. */
export const metrics = {
  attempts: new Counter({
    name: "herald_attempts_total",
    help: "Delivery attempts, by outcome and response status class",
    labelNames: ["outcome", "status_class"] as const,
  }),
  attemptDuration: new Histogram({
    name: "herald_attempt_duration_seconds",
    help: "Time from connect to the end of the response, per attempt",
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  }),
  schedulingLag: new Histogram({
    name: "herald_scheduling_lag_seconds",
    help: "How late an attempt started after it was due",
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 30],
  }),
  inFlight: new Gauge({
    name: "herald_attempts_in_flight",
    help: "Attempts in flight in this dispatcher process",
  }),
  unrecordable: new Counter({
    name: "herald_unrecordable_attempts_total",
    help: "Attempts the database refused to store as sent; recorded without the response instead",
  }),
  reconciled: new Counter({
    name: "herald_reconciled_deliveries_total",
    help: "Pending deliveries found without a job to send them, and scheduled again",
  }),
  throttled: new Counter({
    name: "herald_throttled_attempts_total",
    help: "Attempts held back for their endpoint's rate limit (rate_limit_per_second), each until its start slot",
  }),
  fifoParked: new Counter({
    name: "herald_fifo_parked_attempts_total",
    help: "Attempts of FIFO endpoints set aside because another delivery is ahead of them in line",
  }),
  slowDowns: new Counter({
    name: "herald_endpoint_slow_downs_total",
    help: "Answers (429, 502, 504) that paused their whole endpoint",
  }),
  merchantDeferred: new Counter({
    name: "herald_merchant_share_deferred_total",
    help: "Attempts handed back because their merchant had its fair share of this dispatcher in flight",
  }),
};

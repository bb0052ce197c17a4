-- deliveries_pending (endpoint_id) WHERE status = 'pending' is a prefix of deliveries_pending_order
-- (endpoint_id, id) with the same predicate (0011): every lookup it served, the other serves too.
-- Each delivery written or settled updated both; now one.
DROP INDEX IF EXISTS deliveries_pending;

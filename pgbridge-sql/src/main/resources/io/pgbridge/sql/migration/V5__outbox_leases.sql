-- pgbridge schema, version 5: leases for polling mode.
--
-- A polling bridge claims a batch of events by setting claimed_until (and claimed_by, the bridge's claim token) in a
-- statement that commits at once, so no transaction stays open while a sink is down. A row whose lease is live is
-- not claimed by another bridge; the owner renews the lease while its sinks work and deletes the row once every sink
-- confirmed it. A lease that expires (its bridge crashed, or could not renew) makes the row claimable again.
-- Both columns are nullable without a default: adding them does not rewrite the table.
alter table ${schema}.events
    add column claimed_until timestamptz,
    add column claimed_by uuid;

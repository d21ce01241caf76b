-- pgbridge schema, version 7: requests for online backfills of WAL routes.
--
-- `pgbridge backfill public.orders` (or any INSERT of a row here) asks a running bridge to send a table's rows again
-- (docs/wal.md, "Online backfill"). Every running bridge with a WAL source polls this table once a second (setting
-- wal.backfill-requests); the first one whose routes take the table, and whose slot is the one named (or any when
-- slot is null), claims the request (pending -> running, taken_by = its slot) and writes its progress back here about
-- once a second until the backfill ends: done, failed (error says why), cancelled, or stopped (the bridge closed; it
-- resumes the backfill from its last confirmed chunk when it starts again, and takes the request up again).
-- A bridge that sees a request it cannot take (its routes do not take the table) notes it in declined and leaves it
-- pending for another bridge. Setting cancel_requested stops a pending or running backfill after its chunk in flight.
create table ${schema}.backfill_requests (
    id bigint generated always as identity primary key,
    table_name text not null,
    filter text,
    slot text,
    state text not null default 'pending'
        check (state in ('pending', 'running', 'done', 'failed', 'cancelled', 'stopped', 'expired')),
    cancel_requested boolean not null default false,
    requested_at timestamptz not null default now(),
    requested_by text not null default current_user,
    taken_by text,
    taken_at timestamptz,
    updated_at timestamptz not null default now(),
    rows bigint not null default 0,
    chunks bigint not null default 0,
    total_rows bigint,
    percent double precision not null default 0,
    rows_per_second double precision not null default 0,
    error text,
    declined text[] not null default '{}'
);

comment on table ${schema}.backfill_requests is
    'Online backfill requests for running pgbridge WAL sources (pgbridge backfill): one row per request, with its '
    'progress written back by the bridge that took it';
comment on column ${schema}.backfill_requests.table_name is 'schema.table to backfill; a WAL route must take it';
comment on column ${schema}.backfill_requests.filter is
    'SQL condition on the table''s columns selecting the rows, or null for every row; run as written';
comment on column ${schema}.backfill_requests.slot is
    'replication slot of the bridge that should take the request, or null for any bridge whose routes take the table';
comment on column ${schema}.backfill_requests.state is
    'pending, running, done, failed, cancelled, stopped (the bridge closed: resumed when it starts again), or expired '
    '(no bridge took it in time)';
comment on column ${schema}.backfill_requests.declined is
    'bridges that saw the pending request and cannot take it, each as "slot: reason"';

-- The bridges' poll reads the requests still open: pending and running (and stopped ones it resumes).
create index backfill_requests_open on ${schema}.backfill_requests (id)
    where state in ('pending', 'running', 'stopped');

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

-- The transaction of each event recorded for replay (streaming mode), as a full transaction id. A recorded event
-- that the bridge cannot see in events is decided on from PostgreSQL's own transaction status (event_fate), never
-- from a timeout.
alter table ${schema}.replay add column xid xid8;

-- The full transaction id (xid8) of a 32-bit transaction id no older than 2^31 transactions (one that logical
-- decoding just reported): the epoch of the next transaction id, minus one when the id wrapped around since.
create function ${schema}.xid8_of(x bigint) returns xid8
language sql
stable
set search_path = ''
as $$
    select ((case when x <= (n & 4294967295) then n >> 32 else (n >> 32) - 1 end) << 32 | x)::text::pg_catalog.xid8
    from (select pg_catalog.pg_snapshot_xmax(pg_catalog.pg_current_snapshot())::text::bigint as n) next_xid;
$$;

-- What to do with a recorded event that is not in events, from the status of its transaction (pg_xact_status) and
-- whether that transaction is visible in the given snapshot (pg_visible_in_snapshot):
--   'wait'    in progress, or committed but not visible to this snapshot yet (a commit is decoded before it becomes
--             visible, for example while synchronous replication waits): read again later;
--   'aborted' the transaction rolled back: there is no event;
--   'gone'    committed and visible, yet not in the table: it was deleted (by hand; retention keeps partitions that
--             hold recorded events). Also when PostgreSQL no longer knows the transaction (older than the commit log
--             it keeps), which is visible to every snapshot;
--   'unknown' no transaction recorded (a row recorded by a bridge before version 5).
create function ${schema}.event_fate(x xid8, snapshot pg_snapshot) returns text
language sql
stable
set search_path = ''
as $$
    select case
        when x is null then 'unknown'
        when pg_catalog.pg_xact_status(x) = 'in progress' then 'wait'
        when pg_catalog.pg_xact_status(x) = 'aborted' then 'aborted'
        when pg_catalog.pg_xact_status(x) = 'committed' and not pg_catalog.pg_visible_in_snapshot(x, snapshot)
            then 'wait'
        else 'gone'
    end;
$$;

-- The events a streaming stream must still read from the table because they committed before its slot existed:
-- exactly the rows visible in the snapshot the slot was created with (written in that snapshot), each deleted once
-- every sink confirmed it. Replaces checkpoints.event_id, which a bridge of this version converts at start.
create table ${schema}.backlog (
    stream_id bigint not null,
    event_id bigint not null,
    primary key (stream_id, event_id)
);

-- Why a partition older than the retention must be kept: it holds an event a bridge has not delivered yet. Polling
-- deletes each delivered row, so every row of a stream that is not streamed counts; a streamed event counts while it
-- is recorded for replay or in a backlog (the others are decoded from the WAL, which a dropped partition does not
-- touch). Null when the partition may be dropped.
create function ${schema}.partition_hold(partition_name text) returns text
language plpgsql
stable
set search_path = ''
as $$
declare
    v_count bigint;
begin
    execute format('select count(*) from %I.%I e where not exists (select 1 from %I.checkpoints k'
                   || ' where k.stream_id = e.stream_id and k.slot_name is not null)',
                   '${schema}', partition_name, '${schema}') into v_count;
    if v_count > 0 then
        return format('%s holds %s event(s) of polling streams not delivered yet', partition_name, v_count);
    end if;
    execute format('select count(*) from %I.%I e join %I.replay r on r.stream_id = e.stream_id and r.event_id = e.id',
                   '${schema}', partition_name, '${schema}') into v_count;
    if v_count > 0 then
        return format('%s holds %s event(s) recorded for replay and not delivered yet', partition_name, v_count);
    end if;
    execute format('select count(*) from %I.%I e join %I.backlog b on b.stream_id = e.stream_id and b.event_id = e.id',
                   '${schema}', partition_name, '${schema}') into v_count;
    if v_count > 0 then
        return format('%s holds %s event(s) of a streaming backlog not delivered yet', partition_name, v_count);
    end if;
    return null;
end;
$$;

-- The partitions older than the retention that are kept, and why (see partition_hold).
create function ${schema}.held_partitions(retention_days integer default 7)
returns table (partition_name text, reason text)
language sql
stable
set search_path = ''
as $$
    select p.relname::text, ${schema}.partition_hold(p.relname)
    from pg_catalog.pg_inherits i
    join pg_catalog.pg_class p on p.oid = i.inhrelid
    where i.inhparent = pg_catalog.to_regclass('${schema}.events')
      and p.relname ~ '^events_[0-9]{8}$'
      and pg_catalog.to_date(pg_catalog.substr(p.relname, 8), 'YYYYMMDD')
          < (pg_catalog.now() at time zone 'UTC')::date - retention_days
      and ${schema}.partition_hold(p.relname) is not null
    order by p.relname;
$$;

-- drop_partitions as in version 1, except that it never drops a partition holding an event not delivered yet: it
-- keeps it (held_partitions says why) until the events are delivered.
create or replace function ${schema}.drop_partitions(retention_days integer default 7) returns integer
language plpgsql
set search_path = ''
as $$
declare
    v_oldest_kept date := (now() at time zone 'UTC')::date - retention_days;
    v_partition record;
    v_dropped integer := 0;
begin
    if retention_days is null or retention_days < 1 then
        raise exception 'pgbridge: drop_partitions(retention_days => %): retention_days must be at least 1',
            retention_days using errcode = 'invalid_parameter_value';
    end if;
    perform pg_advisory_xact_lock(hashtext('${schema}.events partitions'));
    for v_partition in
        select c.relname
        from pg_catalog.pg_inherits i
        join pg_catalog.pg_class c on c.oid = i.inhrelid
        where i.inhparent = to_regclass(format('%I.events', '${schema}'))
          and c.relname ~ '^events_[0-9]{8}$'
          and to_date(substr(c.relname, 8), 'YYYYMMDD') < v_oldest_kept
        order by c.relname
    loop
        if ${schema}.partition_hold(v_partition.relname) is not null then
            raise notice 'pgbridge: keeping %', ${schema}.partition_hold(v_partition.relname);
            continue;
        end if;
        execute format('drop table %I.%I', '${schema}', v_partition.relname);
        v_dropped := v_dropped + 1;
    end loop;
    return v_dropped;
end;
$$;

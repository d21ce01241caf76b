-- pgbridge schema, version 6: partition maintenance in steps that hold no lock the application's inserts wait for
-- (creating) or hold it for one short transaction (dropping), and a safe decision for replay rows without a xid.

-- Creates the partition of one UTC day unless it exists; returns whether it did. CREATE TABLE ... PARTITION OF would
-- take ACCESS EXCLUSIVE on events, which queues every insert behind it; creating the table alone and attaching it
-- takes SHARE UPDATE EXCLUSIVE on events (inserts go on) and ACCESS EXCLUSIVE only on the new table and on
-- events_default (which an insert touches only when no partition holds its day). Rows of that day that went to the
-- default partition are moved first, or attaching would fail.
create function ${schema}.create_partition(day date) returns boolean
language plpgsql
set search_path = ''
as $$
declare
    v_name text := 'events_' || to_char(day, 'YYYYMMDD');
    v_from timestamptz := day::timestamp at time zone 'UTC';
    v_to timestamptz := (day + 1)::timestamp at time zone 'UTC';
begin
    -- Two bridges running maintenance at once must not both create the same partition.
    perform pg_advisory_xact_lock(hashtext('${schema}.events partitions'));
    if to_regclass(format('%I.%I', '${schema}', v_name)) is not null then
        return false;
    end if;
    execute format('create table %I.%I (like %I.events including defaults including constraints)',
                   '${schema}', v_name, '${schema}');
    execute format('with moved as (delete from %I.events_default where created_at >= $1 and created_at < $2'
                   || ' returning *) insert into %I.%I select * from moved', '${schema}', '${schema}', v_name)
        using v_from, v_to;
    execute format('alter table %I.events attach partition %I.%I for values from (%L) to (%L)',
                   '${schema}', '${schema}', v_name, v_from, v_to);
    return true;
end;
$$;

-- Drops one partition if it is still older than the retention and holds no event not delivered yet (partition_hold);
-- returns whether it did. Dropping a partition takes ACCESS EXCLUSIVE on events for this call's transaction (DETACH
-- PARTITION CONCURRENTLY, which would not, is refused while events has a default partition); a bridge calls it with a
-- lock_timeout of a few milliseconds and tries again later, so inserts never queue behind it for longer.
create function ${schema}.drop_partition(partition_name text, retention_days integer default 7) returns boolean
language plpgsql
set search_path = ''
as $$
declare
    v_hold text;
begin
    if retention_days is null or retention_days < 1 then
        raise exception 'pgbridge: drop_partition(retention_days => %): retention_days must be at least 1',
            retention_days using errcode = 'invalid_parameter_value';
    end if;
    perform pg_advisory_xact_lock(hashtext('${schema}.events partitions'));
    if not exists (
        select 1
        from pg_catalog.pg_inherits i
        join pg_catalog.pg_class c on c.oid = i.inhrelid
        where i.inhparent = to_regclass(format('%I.events', '${schema}'))
          and c.relname = drop_partition.partition_name
          and c.relname ~ '^events_[0-9]{8}$'
          and to_date(substr(c.relname, 8), 'YYYYMMDD') < (now() at time zone 'UTC')::date - retention_days) then
        return false;
    end if;
    v_hold := ${schema}.partition_hold(partition_name);
    if v_hold is not null then
        raise notice 'pgbridge: keeping %', v_hold;
        return false;
    end if;
    execute format('drop table %I.%I', '${schema}', partition_name);
    return true;
end;
$$;

-- The steps maintenance has to take, in order, each meant for a transaction of its own: 'create' a day's partition
-- (partition_name names it) for each of the next days that has none, then 'drop' each partition older than the
-- retention (drop_partition still checks that it holds nothing undelivered).
create function ${schema}.maintenance_steps(days integer default 3, retention_days integer default 7)
returns table (step text, partition_name text, day date)
language plpgsql
stable
set search_path = ''
as $$
begin
    if days is null or days < 1 then
        raise exception 'pgbridge: maintenance_steps(days => %): days must be at least 1', days
            using errcode = 'invalid_parameter_value';
    end if;
    if retention_days is null or retention_days < 1 then
        raise exception 'pgbridge: maintenance_steps(retention_days => %): retention_days must be at least 1',
            retention_days using errcode = 'invalid_parameter_value';
    end if;
    return query
        select 'create', 'events_' || to_char(d, 'YYYYMMDD'), d::date
        from generate_series((now() at time zone 'UTC')::date, (now() at time zone 'UTC')::date + days - 1,
                             interval '1 day') d
        where to_regclass(format('%I.%I', '${schema}', 'events_' || to_char(d, 'YYYYMMDD'))) is null
        order by d;
    return query
        select 'drop', c.relname::text, to_date(substr(c.relname, 8), 'YYYYMMDD')
        from pg_catalog.pg_inherits i
        join pg_catalog.pg_class c on c.oid = i.inhrelid
        where i.inhparent = to_regclass(format('%I.events', '${schema}'))
          and c.relname ~ '^events_[0-9]{8}$'
          and to_date(substr(c.relname, 8), 'YYYYMMDD') < (now() at time zone 'UTC')::date - retention_days
        order by c.relname;
end;
$$;

-- The functions of version 1 (for a scheduler of one's own), now made of the steps above; run in one transaction,
-- a drop among them holds its ACCESS EXCLUSIVE lock until that transaction ends.
create or replace function ${schema}.create_partitions(days integer default 3) returns integer
language plpgsql
set search_path = ''
as $$
declare
    v_created integer := 0;
    v_step record;
begin
    if days is null or days < 1 then
        raise exception 'pgbridge: create_partitions(days => %): days must be at least 1', days
            using errcode = 'invalid_parameter_value';
    end if;
    for v_step in select s.day from ${schema}.maintenance_steps(days, 1) s where s.step = 'create' loop
        if ${schema}.create_partition(v_step.day) then
            v_created := v_created + 1;
        end if;
    end loop;
    return v_created;
end;
$$;

create or replace function ${schema}.drop_partitions(retention_days integer default 7) returns integer
language plpgsql
set search_path = ''
as $$
declare
    v_dropped integer := 0;
    v_step record;
begin
    if retention_days is null or retention_days < 1 then
        raise exception 'pgbridge: drop_partitions(retention_days => %): retention_days must be at least 1',
            retention_days using errcode = 'invalid_parameter_value';
    end if;
    for v_step in select s.partition_name from ${schema}.maintenance_steps(1, retention_days) s where s.step = 'drop'
    loop
        if ${schema}.drop_partition(v_step.partition_name, retention_days) then
            v_dropped := v_dropped + 1;
        end if;
    end loop;
    return v_dropped;
end;
$$;

-- Replay rows recorded without a transaction id (by a bridge older than version 5). From now on every recorded row
-- must carry one (NOT VALID: the rows already there are not checked). Each such row's transaction committed before
-- the row was recorded, so before this migration took its lock on replay below, so its id is lower than this
-- migration's own, kept in legacy_replay_horizon. A reading snapshot whose xmin is above that id sees every
-- transaction up to it as finished: a committed one is visible to it, so an event such a row names that the snapshot
-- does not find was deleted, or its transaction rolled back (event_fate says 'unknown'). Before that, event_fate says
-- 'wait' (a commit is decoded before it becomes visible, for example while synchronous replication waits).
alter table ${schema}.replay add constraint replay_xid_recorded check (xid is not null) not valid;

create table ${schema}.legacy_replay_horizon (
    xid xid8 not null
);
insert into ${schema}.legacy_replay_horizon (xid) values (pg_current_xact_id());

create or replace function ${schema}.event_fate(x xid8, snapshot pg_snapshot) returns text
language sql
stable
set search_path = ''
as $$
    select case
        when x is null then
            case when pg_catalog.pg_snapshot_xmin(snapshot) > (select h.xid from ${schema}.legacy_replay_horizon h)
                then 'unknown' else 'wait' end
        when pg_catalog.pg_xact_status(x) = 'in progress' then 'wait'
        when pg_catalog.pg_xact_status(x) = 'aborted' then 'aborted'
        when pg_catalog.pg_xact_status(x) = 'committed' and not pg_catalog.pg_visible_in_snapshot(x, snapshot)
            then 'wait'
        else 'gone'
    end;
$$;

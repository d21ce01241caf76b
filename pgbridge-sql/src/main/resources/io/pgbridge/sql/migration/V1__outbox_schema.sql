-- pgbridge schema, version 1: the outbox events table, send helpers, partition maintenance, checkpoints and dead
-- letters. ${schema} is a Flyway (or Liquibase) placeholder for the schema name, "pgbridge" unless configured.
-- Every function pins search_path, and every name built at run time goes through format('%I') / format('%L').

create schema if not exists ${schema};

-- The outbox. One row per event, partitioned by day (UTC) on created_at so that old events go away by dropping a
-- partition, not by DELETE. payload holds the event's JSON (a text message is stored as a JSON string with
-- content_type text/plain). id is the event's idempotency key; its order is insert order, not commit order.
create table ${schema}.events (
    id bigint generated always as identity,
    created_at timestamptz not null default now(),
    stream_id bigint not null default 1,
    channel text not null default 'events',
    routing_key text,
    headers jsonb,
    payload jsonb not null,
    content_type text not null default 'application/json',
    primary key (id, created_at),
    constraint events_channel_not_empty check (channel <> ''),
    constraint events_headers_strings check (headers is null or (jsonb_typeof(headers) = 'object'
        and not jsonb_path_exists(headers, '$.* ? (@.type() != "string")')))
) partition by range (created_at);

create index events_stream_id_id on ${schema}.events (stream_id, id);

-- Catches rows for a day whose partition does not exist yet, so that an insert never fails because maintenance did
-- not run; create_partitions moves such rows into the day's partition.
create table ${schema}.events_default partition of ${schema}.events default;

-- One row per stream id that a bridge serves. A bridge in polling mode sets wakeup_channel, and every new event of
-- that stream then NOTIFYs it with the event id; in streaming mode it stays null and no NOTIFY is sent (NOTIFY takes
-- a cluster-wide lock at commit).
create table ${schema}.streams (
    stream_id bigint primary key,
    wakeup_channel text,
    updated_at timestamptz not null default now()
);

create function ${schema}._wake_up() returns trigger
language plpgsql
set search_path = ''
as $$
declare
    v_channel text;
begin
    select s.wakeup_channel into v_channel from ${schema}.streams s where s.stream_id = new.stream_id;
    if v_channel is not null then
        perform pg_notify(v_channel, new.id::text);
    end if;
    return null;
end;
$$;

create trigger wake_up after insert on ${schema}.events
for each row execute function ${schema}._wake_up();

-- Streaming mode's record per stream: the slot it reads and where that slot started (commit_lsn). event_id is the
-- newest event committed before the slot existed, while those older events are still to be read from the table
-- (null once they were all delivered).
create table ${schema}.checkpoints (
    stream_id bigint primary key,
    slot_name text,
    commit_lsn pg_lsn,
    event_id bigint,
    updated_at timestamptz not null default now()
);

-- Events a sink refused for good, with the reason. Nothing is dropped silently.
create table ${schema}.dead_letters (
    id bigint generated always as identity primary key,
    failed_at timestamptz not null default now(),
    source text not null,
    event_id text not null,
    channel text not null,
    routing_key text,
    headers jsonb,
    payload text not null,
    content_type text,
    target text not null,
    reason text not null
);

-- send: writes one event in the caller's transaction and returns its id. Nothing is delivered unless that
-- transaction commits. A jsonb payload is delivered as JSON; a text payload as text/plain (cast a JSON literal to
-- jsonb to send it as JSON).
create function ${schema}.send(
    channel text,
    payload jsonb,
    routing_key text default null,
    headers jsonb default null,
    stream_id bigint default 1)
returns bigint
language sql
set search_path = ''
as $$
    insert into ${schema}.events (stream_id, channel, routing_key, headers, payload)
    values (send.stream_id, send.channel, send.routing_key, send.headers, send.payload)
    returning id;
$$;

create function ${schema}.send(
    channel text,
    payload text,
    routing_key text default null,
    headers jsonb default null,
    stream_id bigint default 1)
returns bigint
language sql
set search_path = ''
as $$
    insert into ${schema}.events (stream_id, channel, routing_key, headers, payload, content_type)
    values (send.stream_id, send.channel, send.routing_key, send.headers, to_jsonb(send.payload),
            'text/plain; charset=utf-8')
    returning id;
$$;

-- send_message: the seed's helper. durable: through the outbox (at least once, returns the event id); not durable:
-- a plain NOTIFY on the channel with the payload 'routing_key|message' (at most once, returns null).
create function ${schema}.send_message(
    channel text,
    message text,
    routing_key text default null,
    durable boolean default true)
returns bigint
language plpgsql
set search_path = ''
as $$
begin
    if durable then
        return ${schema}.send(send_message.channel, send_message.message, send_message.routing_key);
    end if;
    perform pg_notify(
        send_message.channel,
        case when send_message.routing_key is null then send_message.message
             else send_message.routing_key || '|' || send_message.message end);
    return null;
end;
$$;

-- Partition maintenance. Days are UTC days; partitions are named events_YYYYMMDD.
create function ${schema}.create_partitions(days integer default 3) returns integer
language plpgsql
set search_path = ''
as $$
declare
    v_today date := (now() at time zone 'UTC')::date;
    v_day date;
    v_name text;
    v_from timestamptz;
    v_to timestamptz;
    v_created integer := 0;
begin
    if days is null or days < 1 then
        raise exception 'pgbridge: create_partitions(days => %): days must be at least 1', days
            using errcode = 'invalid_parameter_value';
    end if;
    -- Two bridges running maintenance at once must not both create the same partition.
    perform pg_advisory_xact_lock(hashtext('${schema}.events partitions'));
    for i in 0 .. days - 1 loop
        v_day := v_today + i;
        v_name := 'events_' || to_char(v_day, 'YYYYMMDD');
        continue when to_regclass(format('%I.%I', '${schema}', v_name)) is not null;
        v_from := v_day::timestamp at time zone 'UTC';
        v_to := (v_day + 1)::timestamp at time zone 'UTC';
        if exists (select 1 from ${schema}.events_default d where d.created_at >= v_from and d.created_at < v_to) then
            -- Rows of that day went to the default partition: move them, or attaching would fail.
            execute format('create table %I.%I (like %I.events including defaults including constraints)',
                           '${schema}', v_name, '${schema}');
            execute format('with moved as (delete from %I.events_default where created_at >= $1 and created_at < $2'
                           || ' returning *) insert into %I.%I select * from moved', '${schema}', '${schema}', v_name)
                using v_from, v_to;
            execute format('alter table %I.events attach partition %I.%I for values from (%L) to (%L)',
                           '${schema}', '${schema}', v_name, v_from, v_to);
        else
            execute format('create table %I.%I partition of %I.events for values from (%L) to (%L)',
                           '${schema}', v_name, '${schema}', v_from, v_to);
        end if;
        v_created := v_created + 1;
    end loop;
    return v_created;
end;
$$;

create function ${schema}.drop_partitions(retention_days integer default 7) returns integer
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
        execute format('drop table %I.%I', '${schema}', v_partition.relname);
        v_dropped := v_dropped + 1;
    end loop;
    return v_dropped;
end;
$$;

create function ${schema}.maintain_partitions(days integer default 3, retention_days integer default 7)
returns void
language plpgsql
set search_path = ''
as $$
begin
    perform ${schema}.create_partitions(days);
    perform ${schema}.drop_partitions(retention_days);
end;
$$;

select ${schema}.create_partitions(3);

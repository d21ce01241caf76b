-- pgbridge schema, version 3: checkpoint and replay for streaming mode.
--
-- While a sink is down, a streaming bridge keeps reading its slot and lets it move on: the events stay in the events
-- table, and their commit order, which the table cannot know (a row is written before its transaction commits), is
-- recorded here as the stream reveals it: one row per event, keyed by its transaction's commit LSN and its ordinal in
-- that transaction. After the sink recovers the bridge delivers these events in that order, deleting each row once
-- every sink confirmed it, then returns to streaming.
create table ${schema}.replay (
    stream_id bigint not null,
    commit_lsn pg_lsn not null,
    ordinal integer not null,
    event_id bigint not null,
    primary key (stream_id, commit_lsn, ordinal)
);

-- The checkpoint of an outage: when it began and the last position (commit LSN) every sink had confirmed then.
-- Both are null while the stream is delivered directly.
alter table ${schema}.checkpoints
    add column failover_since timestamptz,
    add column confirmed_lsn pg_lsn;

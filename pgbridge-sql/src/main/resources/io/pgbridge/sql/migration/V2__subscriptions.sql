-- pgbridge schema, version 2: subscriptions and the triggers generated from them (seed 002's design).
--
-- A row in subscriptions says: when <operation> happens on <schema_name>.<table_name> and <when_clause> holds, write
-- an event to the outbox on <channel> for <stream_id>. Any change to the table (re)generates one trigger function and
-- one trigger per (table, operation) that serve every subscription on it. when_clause and the expressions of
-- payload_extensions are SQL written by the database owner: they are checked to be a single expression, and only a
-- role that may create triggers on the table may subscribe to it. The generated function runs as SECURITY DEFINER
-- with the rights of the role that last changed the table's subscriptions, with search_path pinned to ''.

create table ${schema}.subscriptions (
    key text not null,
    stream_id bigint not null default 1,
    operation text not null,
    schema_name text not null,
    table_name text not null,
    when_clause text,
    column_names text[],
    payload_extensions jsonb,
    metadata jsonb,
    channel text not null default 'events',
    updated_by name not null default current_user,
    updated_at timestamptz not null default now(),
    primary key (key, stream_id),
    constraint subscriptions_key_not_empty check (key <> ''),
    constraint subscriptions_channel_not_empty check (channel <> '')
);

-- Rejects anything in a piece of SQL that could end the expression it is placed into: a ';', a comment, a dollar
-- quote, or unbalanced parentheses outside string literals and quoted identifiers. The scan is stricter than
-- PostgreSQL's lexer (an E'\'' string ends early here), never looser.
create function ${schema}._check_expression(expression text, what text) returns void
language plpgsql
immutable
set search_path = ''
as $$
declare
    v_char text;
    v_next text;
    v_in_string boolean := false;
    v_in_identifier boolean := false;
    v_depth integer := 0;
    v_problem text;
begin
    if expression is null then
        return;
    end if;
    if btrim(expression) = '' then
        v_problem := 'is empty';
    end if;
    for i in 1 .. length(expression) loop
        exit when v_problem is not null;
        v_char := substr(expression, i, 1);
        v_next := substr(expression, i + 1, 1);
        if v_in_string then
            v_in_string := v_char <> '''';
        elsif v_in_identifier then
            v_in_identifier := v_char <> '"';
        elsif v_char = '''' then
            v_in_string := true;
        elsif v_char = '"' then
            v_in_identifier := true;
        elsif v_char = ';' then
            v_problem := 'contains '';'' (a second statement)';
        elsif v_char = '-' and v_next = '-' or v_char = '/' and v_next = '*' then
            v_problem := 'contains a comment';
        elsif v_char = '$' then
            v_problem := 'contains ''$'' (dollar quoting or a parameter)';
        elsif v_char = '(' then
            v_depth := v_depth + 1;
        elsif v_char = ')' then
            v_depth := v_depth - 1;
            if v_depth < 0 then
                v_problem := 'closes a parenthesis it did not open';
            end if;
        end if;
    end loop;
    if v_problem is null and (v_in_string or v_in_identifier) then
        v_problem := 'has an unterminated string or quoted identifier';
    end if;
    if v_problem is null and v_depth <> 0 then
        v_problem := 'has unbalanced parentheses';
    end if;
    if v_problem is not null then
        raise exception 'pgbridge: % % %: it must be a single SQL expression', what, quote_literal(expression),
            v_problem using errcode = 'invalid_parameter_value';
    end if;
end;
$$;

-- Checks a subscription row before it is stored, and normalizes its operation.
create function ${schema}._check_subscription() returns trigger
language plpgsql
set search_path = ''
as $$
declare
    v_table regclass;
    v_what text := format('subscription %L', new.key);
    v_unknown text[];
    v_extension jsonb;
begin
    new.operation := upper(new.operation);
    new.updated_by := current_user;
    new.updated_at := now();
    if new.operation not in ('INSERT', 'UPDATE', 'DELETE') then
        raise exception 'pgbridge: %: operation % must be INSERT, UPDATE or DELETE', v_what, quote_literal(new.operation)
            using errcode = 'invalid_parameter_value';
    end if;
    v_table := to_regclass(format('%I.%I', new.schema_name, new.table_name));
    if v_table is null or not exists (
            select 1 from pg_catalog.pg_class c where c.oid = v_table and c.relkind in ('r', 'p')) then
        raise exception 'pgbridge: %: table %.% does not exist', v_what, quote_ident(new.schema_name),
            quote_ident(new.table_name) using errcode = 'undefined_table';
    end if;
    if not pg_catalog.has_table_privilege(v_table, 'TRIGGER') then
        raise exception 'pgbridge: %: role % may not create triggers on %, so it may not subscribe to it', v_what,
            current_user, v_table using errcode = 'insufficient_privilege';
    end if;
    select array_agg(c order by c) into v_unknown
    from unnest(new.column_names) as c
    where not exists (select 1 from pg_catalog.pg_attribute a
                      where a.attrelid = v_table and a.attname = c and a.attnum > 0 and not a.attisdropped);
    if v_unknown is not null then
        raise exception 'pgbridge: %: column_names holds column(s) % that % does not have', v_what, v_unknown, v_table
            using errcode = 'undefined_column';
    end if;

    perform ${schema}._check_expression(new.when_clause, v_what || ' when_clause');
    if new.when_clause is not null then
        begin
            -- Creates the trigger the clause would become, then rolls it back: an unknown column, a non-boolean
            -- expression, a sub-select or OLD in an INSERT trigger is reported now, whatever other subscriptions hold.
            execute format('create trigger pgbridge_when_check after %s on %s for each row when (%s)'
                           || ' execute function %I._wake_up()', new.operation, v_table, new.when_clause, '${schema}');
            raise exception using errcode = 'PGB00';
        exception
            when sqlstate 'PGB00' then
                null;
            when others then
                raise exception 'pgbridge: %: when_clause % is not a boolean expression usable as a % trigger'
                    ' condition on %: %', v_what, quote_literal(new.when_clause), new.operation, v_table, sqlerrm
                    using errcode = 'invalid_parameter_value';
        end;
    end if;

    if new.payload_extensions is not null and jsonb_typeof(new.payload_extensions) <> 'array' then
        raise exception 'pgbridge: %: payload_extensions must be a JSON array of {"json_path", "expression"}', v_what
            using errcode = 'invalid_parameter_value';
    end if;
    for v_extension in select e from jsonb_array_elements(coalesce(new.payload_extensions, '[]')) as e loop
        if jsonb_typeof(v_extension -> 'json_path') is distinct from 'string' or v_extension ->> 'json_path' = ''
                or jsonb_typeof(v_extension -> 'expression') is distinct from 'string' then
            raise exception 'pgbridge: %: payload extension % must have a non-empty "json_path" and an "expression"',
                v_what, v_extension using errcode = 'invalid_parameter_value';
        end if;
        perform ${schema}._check_expression(v_extension ->> 'expression', v_what || ' payload extension expression');
        begin
            execute format('select (%s) from %s as new, %s as old limit 0', v_extension ->> 'expression', v_table,
                           v_table);
        exception when others then
            raise exception 'pgbridge: %: payload extension expression % is not valid on %: %', v_what,
                quote_literal(v_extension ->> 'expression'), v_table, sqlerrm using errcode = 'invalid_parameter_value';
        end;
    end loop;
    return new;
end;
$$;

create trigger check_subscription before insert or update on ${schema}.subscriptions
for each row execute function ${schema}._check_subscription();

-- The JSON object of a row for the payload's "new" or "old": the listed columns, or the whole row.
create function ${schema}._row_json(row_name text, column_names text[]) returns text
language sql
immutable
set search_path = ''
as $$
    select case
        when column_names is null then format('pg_catalog.to_jsonb(%s)', row_name)
        else format('pg_catalog.jsonb_build_object(%s)',
                    (select string_agg(format('%L, %s.%I', c, row_name, c), ', ' order by o)
                     from unnest(column_names) with ordinality as t(c, o)))
    end;
$$;

-- Creates, replaces or drops the trigger and function that serve every subscription to one operation on one table.
-- Does nothing when the generated function would be the same as the existing one.
create function ${schema}._sync_trigger(p_schema_name text, p_table_name text, p_operation text) returns void
language plpgsql
set search_path = ''
as $$
declare
    v_table regclass := to_regclass(format('%I.%I', p_schema_name, p_table_name));
    v_function text := format('_publish_%s_%s', lower(p_operation), md5(p_schema_name || '.' || p_table_name));
    v_trigger text := left('${schema}', 40) || '_' || lower(p_operation);
    v_new text := case when p_operation = 'DELETE' then 'null::jsonb' end;
    v_old text := case when p_operation = 'INSERT' then 'null::jsonb' end;
    v_body text := '';
    v_when text := '';
    v_all_rows boolean := false;
    v_subscription record;
    v_extensions text;
begin
    for v_subscription in
        select s.* from ${schema}.subscriptions s
        where s.schema_name = p_schema_name and s.table_name = p_table_name and s.operation = p_operation
        order by s.stream_id, s.key
    loop
        select coalesce(' || pg_catalog.jsonb_build_object(' || string_agg(
                   format('%L, (%s)', e ->> 'json_path', e ->> 'expression'), ', ' order by o) || ')', '')
        into v_extensions
        from jsonb_array_elements(coalesce(v_subscription.payload_extensions, '[]')) with ordinality as t(e, o);
        v_body := v_body || format(
            E'    if %s then\n'
            || E'        insert into %I.events (stream_id, channel, payload) values (%s, %L, pg_catalog.jsonb_build_object(\n'
            || E'            ''tg_name'', %L, ''tg_op'', tg_op, ''tg_table_name'', tg_table_name,\n'
            || E'            ''tg_table_schema'', tg_table_schema,\n'
            || E'            ''timestamp'', (extract(epoch from pg_catalog.now()) * 1000)::bigint,\n'
            || E'            ''new'', %s, ''old'', %s)%s);\n'
            || E'    end if;\n',
            coalesce('(' || v_subscription.when_clause || ')', 'true'),
            '${schema}', v_subscription.stream_id, v_subscription.channel, v_subscription.key,
            coalesce(v_new, ${schema}._row_json('new', v_subscription.column_names)),
            coalesce(v_old, ${schema}._row_json('old', v_subscription.column_names)),
            v_extensions);
        if v_subscription.when_clause is null then
            v_all_rows := true;
        else
            v_when := v_when || case when v_when = '' then '' else ' or ' end
                      || '(' || v_subscription.when_clause || ')';
        end if;
    end loop;

    if v_body = '' then
        if v_table is not null then
            execute format('drop trigger if exists %I on %s', v_trigger, v_table);
        end if;
        execute format('drop function if exists %I.%I()', '${schema}', v_function);
        return;
    end if;
    v_body := E'begin\n' || v_body || E'    return null;\nend;\n';
    if exists (select 1 from pg_catalog.pg_proc p
               where p.pronamespace = to_regnamespace('${schema}') and p.proname = v_function and p.prosrc = v_body)
       and exists (select 1 from pg_catalog.pg_trigger t where t.tgrelid = v_table and t.tgname = v_trigger) then
        return;
    end if;
    execute format('create or replace function %I.%I() returns trigger language plpgsql security definer'
                   || ' set search_path = %L as %L', '${schema}', v_function, '', v_body);
    execute format('revoke all on function %I.%I() from public', '${schema}', v_function);
    execute format('create or replace trigger %I after %s on %s for each row %s execute function %I.%I()',
                   v_trigger, p_operation, v_table,
                   case when v_all_rows then '' else 'when (' || v_when || ')' end,
                   '${schema}', v_function);
end;
$$;

-- After any change to subscriptions, regenerates the triggers of every (table, operation) the change touched.
create function ${schema}._sync_after_change() returns trigger
language plpgsql
set search_path = ''
as $$
declare
    v_target record;
begin
    if tg_op = 'INSERT' then
        for v_target in select distinct schema_name, table_name, operation from new_rows loop
            perform ${schema}._sync_trigger(v_target.schema_name, v_target.table_name, v_target.operation);
        end loop;
    elsif tg_op = 'UPDATE' then
        for v_target in
            select schema_name, table_name, operation from old_rows
            union
            select schema_name, table_name, operation from new_rows
        loop
            perform ${schema}._sync_trigger(v_target.schema_name, v_target.table_name, v_target.operation);
        end loop;
    else
        for v_target in select distinct schema_name, table_name, operation from old_rows loop
            perform ${schema}._sync_trigger(v_target.schema_name, v_target.table_name, v_target.operation);
        end loop;
    end if;
    return null;
end;
$$;

create trigger sync_after_insert after insert on ${schema}.subscriptions
referencing new table as new_rows
for each statement execute function ${schema}._sync_after_change();

create trigger sync_after_update after update on ${schema}.subscriptions
referencing old table as old_rows new table as new_rows
for each statement execute function ${schema}._sync_after_change();

create trigger sync_after_delete after delete on ${schema}.subscriptions
referencing old table as old_rows
for each statement execute function ${schema}._sync_after_change();

-- The seed's merge-based helper: makes p_subscriptions the whole set of subscriptions of one stream. Rows that did
-- not change are not written, so their triggers are not regenerated. Runs with the caller's rights.
create function ${schema}.set_subscriptions(p_stream_id bigint, p_subscriptions ${schema}.subscriptions[])
returns void
language plpgsql
set search_path = ''
as $$
begin
    merge into ${schema}.subscriptions as target
    using (select * from unnest(p_subscriptions)) as source
    on target.key = source.key and target.stream_id = p_stream_id
    when matched and (
        target.operation is distinct from upper(source.operation) or
        target.schema_name is distinct from source.schema_name or
        target.table_name is distinct from source.table_name or
        target.when_clause is distinct from source.when_clause or
        target.column_names is distinct from source.column_names or
        target.metadata is distinct from source.metadata or
        target.payload_extensions is distinct from source.payload_extensions or
        target.channel is distinct from coalesce(source.channel, 'events')
    ) then update set
        operation = source.operation,
        schema_name = source.schema_name,
        table_name = source.table_name,
        when_clause = source.when_clause,
        column_names = source.column_names,
        metadata = source.metadata,
        payload_extensions = source.payload_extensions,
        channel = coalesce(source.channel, 'events')
    when not matched then insert (
        key, stream_id, operation, schema_name, table_name, when_clause, column_names, metadata,
        payload_extensions, channel
    ) values (
        source.key, p_stream_id, source.operation, source.schema_name, source.table_name, source.when_clause,
        source.column_names, source.metadata, source.payload_extensions, coalesce(source.channel, 'events')
    );

    delete from ${schema}.subscriptions s
    where s.stream_id = p_stream_id
      and not exists (select 1 from unnest(p_subscriptions) as p where p.key = s.key);
end;
$$;

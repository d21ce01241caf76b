-- pgbridge schema, version 4: a subscription guard that uses PostgreSQL's own parser, and one definition of a valid
-- outbox row.
--
-- The guard. A when_clause or a payload-extension expression is SQL that pgbridge splices into the trigger it
-- generates. It is accepted only when PostgreSQL itself parses it as exactly one expression over new/old, of the
-- right type, with no sub-select and no function PostgreSQL labels volatile. It is never executed to be checked:
--
-- 1. Lexing. The clause is placed, inside a string literal (so this step is one statement whatever the clause
--    holds), into the body of a PL/pgSQL function as `if (<clause>\n) then end if;`, and the function is created
--    with check_function_bodies on: PL/pgSQL reads the condition with PostgreSQL's lexer up to THEN, and any ';'
--    token in it (outside strings, quoted identifiers, dollar quotes and comments, as PostgreSQL itself lexes them)
--    is an error. So the clause cannot end a statement. Creating a function runs none of its body.
--    (A ';' can pass this step only after a ')' that closes the parenthesis before the clause, so that PL/pgSQL reads
--    what follows THEN as statements; such a clause holds an unmatched ')', which is a syntax error in step 2, and
--    PostgreSQL parses a whole command string before it runs any statement of it.)
-- 2. Parsing and analysis. Only then is the clause written into a statement: `create function pg_temp.x(new <table>,
--    old <table>) returns <type> language sql return <clause>\n`. With no ';' it is one statement, the grammar takes
--    a single expression after RETURN (a FROM, a second expression or an unbalanced parenthesis is a syntax error),
--    and PostgreSQL resolves its columns, functions and type (boolean for a when_clause) without running it. A row
--    the operation does not have is an unnamed parameter, so the clause cannot name it.
-- 3. Reading back. The function's stored parse tree (pg_proc.prosqlbody, the analysed Query) is inspected: no
--    sub-select (hasSubLinks), no set-returning function (funcretset/opretset), no aggregate or window function, no
--    cast to a domain (its CHECK constraints could call anything), no function PostgreSQL labels volatile (every
--    funcid/opfuncid/aggfnoid/winfnoid and the operators of a row comparison), and no parameter referred to by number
--    ($1 means nothing in the trigger): the function of step 2 is created a second time with its two parameters in
--    the other order, and once parameter numbers 1 and 2 are swapped in its tree the two trees must be the same, which
--    holds exactly when every parameter is referred to by name. The node text is produced by PostgreSQL, so a clause
--    cannot forge or hide a node in it.
-- The functions are created in a subtransaction that is always rolled back. The guard pins
-- standard_conforming_strings on, and so do _sync_trigger (which splices the clauses into CREATE TRIGGER) and every
-- generated function (whose PL/pgSQL body is compiled in the inserting session): a clause is lexed the same way
-- when it is checked and wherever it is used. Each clause is spliced as `(<clause>\n)`, so that a trailing `--`
-- comment ends at the newline, and it is checked again by _sync_trigger right before it is spliced.
--
-- Functions that their owner labels stable or immutable are trusted to be so: PostgreSQL does not verify a label.

drop function ${schema}._check_expression(text, text);

-- Raises invalid_parameter_value naming the rule when `expression` (what: how to name it in the message) is not a
-- single expression over the rows named in row_names (of type tbl) whose type is result_type. Null is accepted.
create function ${schema}._check_expression(
    expression text,
    what text,
    tbl regclass,
    row_names text[],
    result_type regtype)
returns void
language plpgsql
set search_path = ''
set standard_conforming_strings = on
set check_function_bodies = on
as $$
declare
    v_stage text := 'lexing';
    v_first text;
    v_second text;
    v_tree text;
    v_swapped text;
    v_rule text;
    v_problem text;
    v_names text;
    v_rows text := array_to_string(row_names, ' and ');
begin
    if expression is null then
        return;
    end if;
    begin
        if btrim(expression, E' \t\r\n') = '' then
            v_rule := 'not empty';
            v_problem := 'it is empty';
            raise exception using errcode = 'PGB00';
        end if;
        execute format('create function pg_temp.pgbridge_guard_lexing() returns void language plpgsql as %L',
                       E'begin\nif (' || expression || E'\n) then\nend if;\nend');

        v_stage := 'parsing';
        -- Twice, with the two parameters in both orders (an absent row is an unnamed parameter): see step 3.
        v_first := format('%I %s', row_names[1], tbl);
        v_second := case when cardinality(row_names) > 1 then format('%I %s', row_names[2], tbl) else tbl::text end;
        execute format('create function pg_temp.pgbridge_guard_a(%s, %s) returns %s language sql return ', v_first,
                       v_second, result_type) || expression || E'\n';
        execute format('create function pg_temp.pgbridge_guard_b(%s, %s) returns %s language sql return ', v_second,
                       v_first, result_type) || expression || E'\n';

        v_stage := 'reading';
        select p.prosqlbody::text into strict v_tree
        from pg_catalog.pg_proc p
        where p.pronamespace = pg_catalog.pg_my_temp_schema() and p.proname = 'pgbridge_guard_a';
        select p.prosqlbody::text into strict v_swapped
        from pg_catalog.pg_proc p
        where p.pronamespace = pg_catalog.pg_my_temp_schema() and p.proname = 'pgbridge_guard_b';
        v_swapped := replace(replace(replace(v_swapped, ':paramid 1 ', ':paramid 0 '), ':paramid 2 ', ':paramid 1 '),
                             ':paramid 0 ', ':paramid 2 ');
        if v_tree ~ ':hasSubLinks true' then
            v_rule := 'no sub-select';
            v_problem := 'it holds a sub-select (SELECT, EXISTS, IN (SELECT ...), ARRAY(SELECT ...))';
        elsif v_tree ~ ':(funcretset|opretset) true' then
            v_rule := 'no set-returning function';
            v_problem := 'it calls a function that returns a set';
        elsif v_tree ~ '\{(AGGREF|WINDOWFUNC|GROUPINGFUNC) ' then
            v_rule := 'no aggregate or window function';
            v_problem := 'it calls an aggregate or window function';
        elsif v_tree ~ '\{COERCETODOMAIN ' then
            v_rule := 'no domain cast';
            v_problem := 'it casts to a domain, whose CHECK constraints could call any function';
        end if;
        if v_rule is null then
            select string_agg(distinct p.oid::regprocedure::text, ', ') into v_names
            from (select m[1]::oid as f
                  from regexp_matches(v_tree, ':(?:funcid|opfuncid|aggfnoid|winfnoid) ([0-9]+)', 'g') as m
                  union all
                  select o.oprcode::oid
                  from regexp_matches(v_tree, ':opnos \(o([ 0-9]+)\)', 'g') as m,
                       unnest(string_to_array(btrim(m[1]), ' ')) as n
                  join pg_catalog.pg_operator o on o.oid = n::oid) as called
            join pg_catalog.pg_proc p on p.oid = called.f
            where p.provolatile = 'v';
            if v_names is not null then
                v_rule := 'no volatile function';
                v_problem := format('it calls %s, which PostgreSQL labels volatile (it may change something)',
                                    v_names);
            end if;
        end if;
        if v_rule is null and v_tree <> v_swapped then
            v_rule := format('only %s', v_rows);
            v_problem := format('it refers to a parameter by number ($1, $2), not by the name %s', v_rows);
        end if;
        raise exception using errcode = 'PGB00'; -- rolls the functions back
    exception
        when sqlstate 'PGB00' then
            null;
        when others then
            if v_stage = 'lexing' then
                v_rule := 'one expression';
                v_problem := 'PostgreSQL does not read it as one expression that ends where it began (a '';'','
                             || ' an unterminated string, quoted identifier, dollar quote or comment, unbalanced'
                             || ' parentheses, or a syntax error): ' || sqlerrm;
            elsif sqlstate = '42601' then
                v_rule := 'one expression';
                v_problem := 'PostgreSQL does not parse it as a single expression: ' || sqlerrm;
            elsif sqlstate = '42P13' then
                v_rule := format('of type %s', result_type);
                v_problem := 'it is not of that type: ' || sqlerrm;
            elsif sqlstate in ('42703', '42P01', '42P02') then
                v_rule := format('only %s', v_rows);
                v_problem := format('it refers to something other than the columns of %s (%s): %s', v_rows, tbl,
                                    sqlerrm);
            else
                v_rule := format('a valid expression over %s', v_rows);
                v_problem := sqlerrm;
            end if;
    end;
    if v_rule is not null then
        raise exception 'pgbridge: % % breaks the rule "%": %', what, quote_literal(expression), v_rule, v_problem
            using errcode = 'invalid_parameter_value',
                  hint = format('It must be one %s expression over %s (columns of %s), with no sub-select,'
                                || ' set-returning, aggregate, window or volatile function.', result_type, v_rows,
                                tbl);
    end if;
end;
$$;

-- The row names a when_clause of an operation may use (a trigger has no OLD row on INSERT, no NEW row on DELETE).
create function ${schema}._when_rows(operation text) returns text[]
language sql
immutable
set search_path = ''
return case operation when 'INSERT' then array['new'] when 'DELETE' then array['old'] else array['new', 'old'] end;

-- Checks one subscription's when_clause and payload_extensions (the guard above); used before a row is stored and
-- again before its clauses are spliced into a trigger.
create function ${schema}._check_clauses(s ${schema}.subscriptions, tbl regclass) returns void
language plpgsql
set search_path = ''
as $$
declare
    v_what text := format('subscription %L', s.key);
    v_extension jsonb;
begin
    perform ${schema}._check_expression(s.when_clause, v_what || ' when_clause', tbl,
                                        ${schema}._when_rows(s.operation), 'pg_catalog.bool');
    if s.payload_extensions is not null and jsonb_typeof(s.payload_extensions) <> 'array' then
        raise exception 'pgbridge: %: payload_extensions must be a JSON array of {"json_path", "expression"}', v_what
            using errcode = 'invalid_parameter_value';
    end if;
    for v_extension in select e from jsonb_array_elements(coalesce(s.payload_extensions, '[]')) as e loop
        if jsonb_typeof(v_extension -> 'json_path') is distinct from 'string' or v_extension ->> 'json_path' = ''
                or jsonb_typeof(v_extension -> 'expression') is distinct from 'string' then
            raise exception 'pgbridge: %: payload extension % must have a non-empty "json_path" and an "expression"',
                v_what, v_extension using errcode = 'invalid_parameter_value';
        end if;
        -- Any type: jsonb_build_object turns every value into JSON; text is where every type can be assigned.
        perform ${schema}._check_expression(v_extension ->> 'expression', v_what || ' payload extension expression',
                                            tbl, array['new', 'old'], 'pg_catalog.text');
    end loop;
end;
$$;

-- Checks a subscription row before it is stored, and normalizes its operation.
create or replace function ${schema}._check_subscription() returns trigger
language plpgsql
set search_path = ''
as $$
declare
    v_table regclass;
    v_what text := format('subscription %L', new.key);
    v_unknown text[];
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
    perform ${schema}._check_clauses(new, v_table);
    return new;
end;
$$;

-- Creates, replaces or drops the trigger and function that serve every subscription to one operation on one table.
-- Does nothing when the generated function would be the same as the existing one. Every clause passes the guard
-- again right before it is spliced, as `(<clause>\n)`.
create or replace function ${schema}._sync_trigger(p_schema_name text, p_table_name text, p_operation text)
returns void
language plpgsql
set search_path = ''
set standard_conforming_strings = on
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
    v_owner name;
begin
    for v_subscription in
        select s from ${schema}.subscriptions s
        where s.schema_name = p_schema_name and s.table_name = p_table_name and s.operation = p_operation
        order by s.stream_id, s.key
    loop
        perform ${schema}._check_clauses(v_subscription.s, v_table);
        select coalesce(' || pg_catalog.jsonb_build_object(' || string_agg(
                   format(E'%L, (%s\n)', e ->> 'json_path', e ->> 'expression'), ', ' order by o) || ')', '')
        into v_extensions
        from jsonb_array_elements(coalesce((v_subscription.s).payload_extensions, '[]')) with ordinality as t(e, o);
        v_body := v_body || format(
            E'    if %s then\n'
            || E'        insert into %I.events (stream_id, channel, payload) values (%s, %L, pg_catalog.jsonb_build_object(\n'
            || E'            ''tg_name'', %L, ''tg_op'', tg_op, ''tg_table_name'', tg_table_name,\n'
            || E'            ''tg_table_schema'', tg_table_schema,\n'
            || E'            ''timestamp'', (extract(epoch from pg_catalog.now()) * 1000)::bigint,\n'
            || E'            ''new'', %s, ''old'', %s)%s);\n'
            || E'    end if;\n',
            coalesce('(' || (v_subscription.s).when_clause || E'\n)', 'true'),
            '${schema}', (v_subscription.s).stream_id, (v_subscription.s).channel, (v_subscription.s).key,
            coalesce(v_new, ${schema}._row_json('new', (v_subscription.s).column_names)),
            coalesce(v_old, ${schema}._row_json('old', (v_subscription.s).column_names)),
            v_extensions);
        if (v_subscription.s).when_clause is null then
            v_all_rows := true;
        else
            v_when := v_when || case when v_when = '' then '' else ' or ' end
                      || '(' || (v_subscription.s).when_clause || E'\n)';
        end if;
    end loop;

    -- A function can only be replaced or dropped by its owner (or a member of that role).
    select p.proowner::regrole::name into v_owner
    from pg_catalog.pg_proc p
    where p.pronamespace = to_regnamespace('${schema}') and p.proname = v_function
      and not pg_catalog.pg_has_role(p.proowner, 'USAGE');
    if v_owner is not null then
        raise exception 'pgbridge: the trigger function %.% of % subscriptions on %.% is owned by role %, and role %'
            ' is not a member of it, so it cannot replace it', '${schema}', v_function, p_operation, p_schema_name,
            p_table_name, v_owner, current_user
            using errcode = 'insufficient_privilege',
                  hint = format('Change these subscriptions as role %s, or let role %s (or a superuser) run: ALTER'
                                || ' FUNCTION %I.%I() OWNER TO %I', v_owner, v_owner, '${schema}', v_function,
                                current_user);
    end if;

    if v_body = '' then
        if v_table is not null then
            execute format('drop trigger if exists %I on %s', v_trigger, v_table);
        end if;
        execute format('drop function if exists %I.%I()', '${schema}', v_function);
        return;
    end if;
    v_body := E'begin\n' || v_body || E'    return null;\nend;\n';
    if exists (select 1 from pg_catalog.pg_proc p
               where p.pronamespace = to_regnamespace('${schema}') and p.proname = v_function and p.prosrc = v_body
                 and p.proconfig @> array['standard_conforming_strings=on'])
       and exists (select 1 from pg_catalog.pg_trigger t where t.tgrelid = v_table and t.tgname = v_trigger) then
        return;
    end if;
    execute format('create or replace function %I.%I() returns trigger language plpgsql security definer'
                   || ' set search_path = %L set standard_conforming_strings = on as %L', '${schema}', v_function, '',
                   v_body);
    execute format('revoke all on function %I.%I() from public', '${schema}', v_function);
    execute format('create or replace trigger %I after %s on %s for each row %s execute function %I.%I()',
                   v_trigger, p_operation, v_table,
                   case when v_all_rows then '' else 'when (' || v_when || ')' end,
                   '${schema}', v_function);
end;
$$;

-- Subscriptions stored before this version were checked by a scan that could be fooled. Each one that breaks a rule
-- is reported here, and its table's trigger is regenerated (so that it pins standard_conforming_strings) only when
-- every subscription on it passes; a change to a failing one is refused with the rule until it is fixed.
do $$
declare
    v_target record;
begin
    for v_target in select distinct s.schema_name, s.table_name, s.operation from ${schema}.subscriptions s loop
        begin
            perform ${schema}._sync_trigger(v_target.schema_name, v_target.table_name, v_target.operation);
        exception when others then
            raise warning 'pgbridge: the % trigger on %.% was kept as it was: %', v_target.operation,
                quote_ident(v_target.schema_name), quote_ident(v_target.table_name), sqlerrm;
        end;
    end loop;
end;
$$;

-- One definition of a valid outbox row, shared by both delivery modes: a row whose content type starts with 'text/'
-- holds its text as a JSON string (what send(channel, text) writes), because the event's payload is that text.
-- Polling and streaming decode rows the same way (OutboxRows in pgbridge-core) and rely on this constraint. Rows an
-- older version accepted that break it move to dead_letters with the reason, since neither mode can deliver them.
-- NOT VALID first, so that no new bad row can arrive while the old ones are moved; VALIDATE then scans the table.
alter table ${schema}.events add constraint events_text_payload_is_string
    check (content_type not like 'text/%' or jsonb_typeof(payload) = 'string') not valid;

with moved as (
    delete from ${schema}.events e
    where e.content_type like 'text/%' and jsonb_typeof(e.payload) <> 'string'
    returning e.*)
insert into ${schema}.dead_letters (source, event_id, channel, routing_key, headers, payload, content_type, target,
                                    reason)
select 'outbox', m.id::text, m.channel, m.routing_key, m.headers, m.payload::text, m.content_type, 'pgbridge schema V4',
       'its content type ' || m.content_type || ' is a text type but its payload is JSON ' || jsonb_typeof(m.payload)
       || ', not a string (constraint events_text_payload_is_string)'
from moved m;

alter table ${schema}.events validate constraint events_text_payload_is_string;

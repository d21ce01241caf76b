-- The application's own migration, in its own schema (spring.flyway.schemas). pgbridge's outbox schema is installed
-- through this same Flyway, before this script runs, with a history table of its own (pgbridge.pgbridge_schema_history).
create table orders (id bigint primary key, total numeric not null);

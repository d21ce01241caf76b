create table if not exists example_orders (id bigint primary key, total numeric not null);

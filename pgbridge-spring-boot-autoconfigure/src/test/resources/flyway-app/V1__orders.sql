-- The application's own first migration; it uses the pgbridge schema, which must exist before it runs.
CREATE TABLE ${app}.orders (id bigint PRIMARY KEY, total numeric NOT NULL);
CREATE VIEW ${app}.order_events AS SELECT id, channel FROM ${pgbridge}.events;

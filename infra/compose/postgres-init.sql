-- The Compose stack's PostgreSQL, first start only (docker-entrypoint-initdb.d, run by psql as
-- the superuser): the two roles of docs/operations.md "Database roles". canvass_owner owns the
-- database and every schema and runs the migrations (the migrate service); canvass_app, the
-- web processes' and workers' login, owns nothing. Passwords come from the environment.
\set ON_ERROR_STOP on
\getenv owner_password CANVASS_OWNER_PASSWORD
\getenv app_password CANVASS_APP_PASSWORD
CREATE ROLE canvass_owner LOGIN PASSWORD :'owner_password';
CREATE ROLE canvass_app LOGIN PASSWORD :'app_password';
CREATE DATABASE canvass OWNER canvass_owner;
\connect canvass
-- PostgreSQL 15+ already keeps CREATE on the public schema for its owner; older ones do not.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;

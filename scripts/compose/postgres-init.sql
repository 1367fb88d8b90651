-- One database per service, each owned by its own role (docker compose only; the postgres
-- image runs this once, on an empty data volume). The passwords are local-demo values: set
-- real ones for anything but a laptop.
CREATE ROLE bp_identity LOGIN PASSWORD 'bp_identity';
CREATE DATABASE bp_identity OWNER bp_identity;
CREATE ROLE bp_training_records LOGIN PASSWORD 'bp_training_records';
CREATE DATABASE bp_training_records OWNER bp_training_records;
CREATE ROLE bp_exams LOGIN PASSWORD 'bp_exams';
CREATE DATABASE bp_exams OWNER bp_exams;
CREATE ROLE bp_documents LOGIN PASSWORD 'bp_documents';
CREATE DATABASE bp_documents OWNER bp_documents;
CREATE ROLE bp_notifications LOGIN PASSWORD 'bp_notifications';
CREATE DATABASE bp_notifications OWNER bp_notifications;
CREATE ROLE bp_web LOGIN PASSWORD 'bp_web';
CREATE DATABASE bp_web OWNER bp_web;

-- docker-compose only: the schema registry keeps its schemas in its own database.
CREATE DATABASE registry;

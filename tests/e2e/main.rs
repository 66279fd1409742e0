//! End-to-end tests: the real pipeline on a real nats-server, a local
//! fixture site, and SQLite on a temp file. Some run the stages in this
//! process through the library; others run the `newsflow` binary as
//! separate processes, as docker compose does.

mod backpressure;
mod bad_input;
mod chaos;
mod cluster;
mod compose;
mod pipeline;
mod processes;
mod schemas;
mod search;
mod util;

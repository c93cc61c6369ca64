//! A small HTTP/1.1 server (placeholder; being written).

/**
 * The {@code ingest} job: raw image trees (local, HDFS, S3A) to validated, deduplicated Parquet shards, a quarantine
 * table of rejected files with reasons, a class index and a manifest. Every listed input file ends up in exactly one
 * of: stored, duplicate, quarantined, already present (incremental runs).
 */
package dev.sparkvit.data.ingest;

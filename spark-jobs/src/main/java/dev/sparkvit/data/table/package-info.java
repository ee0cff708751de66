/**
 * The stored dataset as an Apache Iceberg table (issue 22, first step, not yet used by ingest): rows, the class index
 * and the manifest figures of a run in one atomic snapshot commit, time travel by snapshot id, and optimistic
 * concurrency between writers with the class index re-validated at commit. docs/DATASETS.md.
 */
package dev.sparkvit.data.table;

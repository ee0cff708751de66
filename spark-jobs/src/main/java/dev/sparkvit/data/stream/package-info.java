/**
 * Training input streamed from the dataset table ({@code data.input: stream}, issue 22): per (seed, epoch) the
 * snapshot's data files in a permuted order, each barrier task reading its contiguous share of them through a bounded
 * shuffle buffer, so the executors hold the buffer and one row group, never the dataset. docs/DATASETS.md.
 */
package dev.sparkvit.data.stream;

package dev.sparkvit.data.ingest;

import java.util.Map;

/**
 * What one ingest run did. {@code inputFiles = stored + duplicates + quarantined + alreadyPresent}.
 *
 * @param inputFiles files the listing found under the input root
 * @param stored new images written to the dataset
 * @param duplicates files whose content was stored under another path in this run
 * @param quarantined rejected files, by reason in {@code rejectsByReason}
 * @param alreadyPresent files whose content the dataset already held (incremental runs)
 * @param manifest the dataset's manifest after the run
 */
public record IngestResult(long inputFiles, long stored, long duplicates, long quarantined, long alreadyPresent,
        Map<String, Long> rejectsByReason, Manifest manifest) {
}

package dev.sparkvit.data.ingest;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;
import java.util.Map;

/**
 * The dataset's description, rewritten after every ingest run: classes, counts per class and split, per-channel
 * mean and standard deviation of the train split (pixel values in [0, 1]), quarantined files by reason over all
 * runs, and the accounting of the last run.
 */
public record Manifest(
        @JsonProperty("stored_size") int storedSize,
        @JsonProperty("labelled") boolean labelled,
        @JsonProperty("classes") List<String> classes,
        @JsonProperty("images") long images,
        @JsonProperty("counts") Map<String, Map<String, Long>> counts,
        @JsonProperty("channel_mean") double[] channelMean,
        @JsonProperty("channel_std") double[] channelStd,
        @JsonProperty("quarantined_by_reason") Map<String, Long> quarantinedByReason,
        @JsonProperty("duplicates") long duplicates,
        @JsonProperty("last_run") LastRun lastRun) {

    /** Accounting of one run: input = stored + duplicates + quarantined + already_present. */
    public record LastRun(
            @JsonProperty("input") String input,
            @JsonProperty("incremental") boolean incremental,
            @JsonProperty("input_files") long inputFiles,
            @JsonProperty("stored") long stored,
            @JsonProperty("duplicates") long duplicates,
            @JsonProperty("quarantined") long quarantined,
            @JsonProperty("already_present") long alreadyPresent,
            @JsonProperty("rejects_by_reason") Map<String, Long> rejectsByReason) {
    }
}

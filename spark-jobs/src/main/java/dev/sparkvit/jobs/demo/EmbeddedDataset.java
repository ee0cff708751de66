package dev.sparkvit.jobs.demo;

import dev.sparkvit.data.SyntheticImageFolder;
import dev.sparkvit.data.ingest.IngestJob;
import dev.sparkvit.data.ingest.IngestResult;
import dev.sparkvit.data.ingest.IngestSettings;
import java.nio.file.Path;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The embedded dataset of the demo and the benchmarks: generated PNG images in ImageFolder layout under
 * {@code root/raw}, ingested into {@code root/dataset} (incrementally when it exists, so a re-run stores nothing).
 */
public final class EmbeddedDataset {
    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedDataset.class);

    private EmbeddedDataset() {
    }

    public static IngestResult write(SparkSession spark, Path root, int imageSize, int imagesPerClass, long seed) {
        Path rawDir = root.resolve("raw");
        Path datasetDir = root.resolve("dataset");
        spark.sparkContext().setJobGroup("demo:generate", "write the embedded image dataset", false);
        int written = new SyntheticImageFolder(imageSize, imagesPerClass, seed).writeTo(rawDir);
        LOG.info("stage generate: {} images of {}x{} in {} classes under {}", written, imageSize, imageSize,
                SyntheticImageFolder.CLASSES.size(), rawDir);
        boolean existing = dev.sparkvit.data.ingest.StoredImages.isDataset(new org.apache.hadoop.conf.Configuration(),
                datasetDir.toString());
        return new IngestJob(IngestSettings.defaults(rawDir.toString(), datasetDir.toString())
                .withStoredSize(imageSize).withIncremental(existing)).execute(spark);
    }
}

package dev.sparkvit.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sparkvit.data.SyntheticImageFolder;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code sparkvit ingest} on YARN (yarn-client, through submit/spark-submit.sh) from and to remote file systems: an
 * image tree on HDFS into a dataset on HDFS, one on S3 into S3, one on S3 into HDFS. Each dataset's manifest counts
 * every image of the tree, with the tree's classes.
 */
class ClusterIngestTest {
    @TempDir
    static Path tmp;
    private static Servers servers;
    private static Submit submit;
    private static int images;

    @BeforeAll
    static void start() throws Exception {
        servers = Servers.start("ClusterIngestTest", true);
        submit = new Submit(servers);
        Path raw = tmp.resolve("raw");
        images = new SyntheticImageFolder(32, 5, 11).writeTo(raw);
        servers.upload(raw, servers.hdfs() + "/raw");
        servers.createBucket("images");
        servers.upload(raw, "s3a://images/raw");
    }

    @AfterAll
    static void stop() throws Exception {
        if (servers != null) {
            servers.close();
        }
    }

    private void ingest(String name, String input, String output) throws Exception {
        Commands.Result r = submit.run(name, "client", "ingest", "--input", input, "--output", output);
        assertEquals(0, r.exit(), r.output());
        assertTrue(r.stdout().contains("dataset: " + output + " (" + images + " images)"), r.output());
        // the manifest committed with the dataset table's current snapshot (Hadoop catalog: version-hint.text)
        String version = servers.read(output + "/metadata/version-hint.text").trim();
        JsonNode metadata = new ObjectMapper().readTree(servers.read(output + "/metadata/v" + version
                + ".metadata.json"));
        JsonNode manifest = new ObjectMapper().readTree(metadata.path("properties").path("sparkvit.manifest")
                .asText());
        assertEquals(images, manifest.path("images").asLong(), manifest.toString());
        assertEquals(images, manifest.path("last_run").path("stored").asLong(), manifest.toString());
        assertEquals(SyntheticImageFolder.CLASSES.size(), manifest.path("classes").size(), manifest.toString());
        long counted = 0;
        for (JsonNode perSplit : manifest.path("counts")) {
            for (JsonNode n : perSplit) {
                counted += n.asLong();
            }
        }
        assertEquals(images, counted, "counts per class and split add up: " + manifest);
    }

    @Test
    void hdfsToHdfs() throws Exception {
        ingest("ingest-hdfs-hdfs", servers.hdfs() + "/raw", servers.hdfs() + "/datasets/from-hdfs");
    }

    @Test
    void s3aToS3a() throws Exception {
        ingest("ingest-s3a-s3a", "s3a://images/raw", "s3a://images/datasets/from-s3a");
    }

    @Test
    void s3aToHdfs() throws Exception {
        ingest("ingest-s3a-hdfs", "s3a://images/raw", servers.hdfs() + "/datasets/from-s3a");
    }
}

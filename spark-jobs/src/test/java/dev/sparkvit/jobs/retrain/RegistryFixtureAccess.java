package dev.sparkvit.jobs.retrain;

import java.nio.file.Path;
import java.util.Map;

/** {@link RegistryFixture} for tests outside this package (the CLI's). */
public final class RegistryFixtureAccess {
    private RegistryFixtureAccess() {
    }

    public static void registry(Path root, int versions) {
        RegistryFixture.registry(root, versions);
    }

    /** A registry at a Hadoop location (HDFS) with {@code versions} versions, staged in {@code staging}. */
    public static void registry(String location, org.apache.hadoop.conf.Configuration conf, Path staging,
            int versions) {
        RegistryFixture.fill(ModelRegistry.open(location, conf), staging, versions);
    }

    public static Map<String, String> snapshot(Path root) {
        return RegistryFixture.snapshot(root);
    }
}

package dev.sparkvit.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** The artifact names {@link StandaloneCluster#applicationJars} compares with the distribution's {@code jars/}. */
class StandaloneClusterTest {
    @Test
    void artifactNamesDropTheVersion() {
        assertEquals("scala-library", StandaloneCluster.artifact("scala-library-2.12.15.jar"));
        assertEquals("spark-core_2.12", StandaloneCluster.artifact("spark-core_2.12-3.1.3.jar"));
        assertEquals("bigdl-dllib-spark_3.1.3", StandaloneCluster.artifact("bigdl-dllib-spark_3.1.3-2.4.0.jar"));
        assertEquals("all", StandaloneCluster.artifact("all-2.4.0.jar"));
        assertEquals("jetty-util", StandaloneCluster.artifact("jetty-util-9.3.24.v20180605.jar"));
        assertEquals("hadoop-client-api", StandaloneCluster.artifact("hadoop-client-api-3.2.0.jar"));
        assertEquals("guava", StandaloneCluster.artifact("guava-14.0.1.jar"));
        assertEquals("no-version", StandaloneCluster.artifact("no-version.jar"));
    }
}

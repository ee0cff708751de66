package dev.sparkvit.storage;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.hdfs.MiniDFSCluster;

/**
 * A real HDFS (Hadoop's MiniDFSCluster: one NameNode, one DataNode, on loopback) in a child JVM, for the registry's
 * tests. A child because the NameNode needs the Guava that Hadoop 3.2 was built against (11.0.2), while the test
 * JVM's classpath puts the newer Guava bundled in the BigDL jar first; the child's classpath is the same with
 * Guava 11 moved to the front. The HDFS client in the test JVM works with either.
 *
 * <pre>java -cp guava-11.jar:... dev.sparkvit.storage.MiniHdfs BASEDIR URI_FILE</pre>
 * starts the cluster, writes its {@code hdfs://} URI into URI_FILE and runs until its standard input closes.
 */
public final class MiniHdfs implements AutoCloseable {
    private final Process process;
    private final String uri;

    private MiniHdfs(Process process, String uri) {
        this.process = process;
        this.uri = uri;
    }

    /** The file system's URI, {@code hdfs://127.0.0.1:PORT}. */
    public String uri() {
        return uri;
    }

    /** Starts one under {@code dir} (its data, log and URI file); up in a few seconds. */
    public static MiniHdfs start(Path dir) throws IOException, InterruptedException {
        Files.createDirectories(dir);
        List<String> entries = new ArrayList<>(List.of(System.getProperty("java.class.path")
                .split(File.pathSeparator)));
        List<String> guava = entries.stream().filter(e -> e.matches(".*/guava-11[^/]*\\.jar")).toList();
        if (guava.isEmpty()) {
            throw new IllegalStateException("no guava-11 jar on the test classpath");
        }
        entries.removeAll(guava);
        entries.addAll(0, guava);
        Path uriFile = dir.resolve("uri");
        Path log = dir.resolve("minihdfs.log");
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx512m",
                "-cp", String.join(File.pathSeparator, entries), MiniHdfs.class.getName(), dir.resolve("data")
                .toString(), uriFile.toString()).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        for (int waited = 0; !Files.exists(uriFile) && waited < 1200; waited++) {
            if (!p.isAlive()) {
                throw new IllegalStateException("MiniDFSCluster did not start: " + tail(log));
            }
            Thread.sleep(50);
        }
        if (!Files.exists(uriFile)) {
            p.destroyForcibly();
            throw new IllegalStateException("MiniDFSCluster not up within 60 s: " + tail(log));
        }
        return new MiniHdfs(p, Files.readString(uriFile, StandardCharsets.UTF_8).trim());
    }

    /** A client configuration for it. */
    public Configuration conf() {
        Configuration conf = new Configuration();
        conf.set("fs.defaultFS", uri);
        return conf;
    }

    @Override
    public void close() {
        try {
            process.getOutputStream().close(); // the child shuts the cluster down when its input closes
        } catch (IOException e) {
            // gone already
        }
        try {
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

    private static String tail(Path log) throws IOException {
        String text = Files.exists(log) ? Files.readString(log) : "";
        return text.substring(Math.max(0, text.length() - 2000));
    }

    public static void main(String[] args) throws Exception {
        Configuration conf = new Configuration();
        conf.set(MiniDFSCluster.HDFS_MINIDFS_BASEDIR, args[0]);
        conf.set("dfs.namenode.rpc-bind-host", "127.0.0.1");
        MiniDFSCluster cluster = new MiniDFSCluster.Builder(conf).numDataNodes(1).build();
        try {
            cluster.waitActive();
            Path tmp = Path.of(args[1] + ".tmp");
            Files.writeString(tmp, "hdfs://127.0.0.1:" + cluster.getNameNodePort() + "\n");
            Files.move(tmp, Path.of(args[1]), java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            while (System.in.read() >= 0) {
                // runs until the parent closes our input (or dies)
            }
        } finally {
            cluster.shutdown();
        }
    }
}

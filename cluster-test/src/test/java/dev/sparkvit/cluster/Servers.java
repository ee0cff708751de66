package dev.sparkvit.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;

/**
 * The servers of a test class: a mini YARN cluster with HDFS (tools/cluster/mini-hadoop.sh) and, when asked for, an S3
 * server (tools/cluster/s3-server.sh), each on 127.0.0.1 with free ports, state under one folder. {@link #close}
 * stops what was started, also after a failed start.
 */
final class Servers implements AutoCloseable {
    static final String ACCESS_KEY = "sparkvit-test";
    static final String SECRET_KEY = "sparkvit-test-secret";

    private final Path dir;
    private final Map<String, String> env = new LinkedHashMap<>();
    private boolean hadoop;
    private boolean s3;

    private Servers(Path dir) {
        this.dir = dir;
    }

    /**
     * Starts HDFS + YARN, and the S3 server when {@code withS3}, with their state and every command's output under
     * cluster-test/target/cluster-runs/NAME (kept after the tests, for a failure to be read; emptied at start).
     */
    static Servers start(String name, boolean withS3) throws Exception {
        Path dir = Path.of("cluster-test", "target", "cluster-runs", name).toAbsolutePath();
        if (java.nio.file.Files.exists(dir)) {
            try (var walk = java.nio.file.Files.walk(dir)) {
                for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    java.nio.file.Files.delete(p);
                }
            }
        }
        Servers servers = new Servers(dir);
        try {
            long t0 = System.nanoTime();
            servers.hadoop = true;
            servers.run("mini-hadoop", "tools/cluster/mini-hadoop.sh", "start", dir.resolve("hadoop").toString());
            servers.readExports(servers.run("mini-hadoop", "tools/cluster/mini-hadoop.sh", "env",
                    dir.resolve("hadoop").toString()));
            if (withS3) {
                servers.s3 = true;
                servers.run("s3-server", "tools/cluster/s3-server.sh", "start", dir.resolve("s3").toString());
                servers.readExports(servers.run("s3-server", "tools/cluster/s3-server.sh", "env",
                        dir.resolve("s3").toString()));
            }
            System.out.printf("cluster-test: servers up in %.1f s: %s%n", (System.nanoTime() - t0) / 1e9,
                    servers.env);
            return servers;
        } catch (Exception | AssertionError e) {
            servers.close();
            throw e;
        }
    }

    private String run(String name, String... command) throws Exception {
        Commands.Result r = Commands.run(dir.resolve("logs"), name, List.of(command), Map.of(), 180);
        assertEquals(0, r.exit(), String.join(" ", command) + ":\n" + r.output());
        return r.stdout();
    }

    private void readExports(String exports) {
        for (String line : exports.strip().split("\n")) {
            String kv = line.substring("export ".length());
            env.put(kv.substring(0, kv.indexOf('=')), kv.substring(kv.indexOf('=') + 1));
        }
    }

    Path dir() {
        return dir;
    }

    String hadoopConfDir() {
        return env.get("HADOOP_CONF_DIR");
    }

    /** hdfs://127.0.0.1:PORT */
    String hdfs() {
        return env.get("SPARKVIT_MINI_FS");
    }

    /** http://127.0.0.1:PORT of the ResourceManager's web app and REST API. */
    String rmWeb() {
        return env.get("SPARKVIT_MINI_RM_WEB");
    }

    String s3Endpoint() {
        return env.get("SPARKVIT_S3_ENDPOINT");
    }

    /** The S3A settings, as Hadoop keys (fs.s3a.*). */
    Map<String, String> s3aSettings() {
        Map<String, String> keys = new LinkedHashMap<>();
        if (s3) {
            keys.put("fs.s3a.endpoint", s3Endpoint());
            keys.put("fs.s3a.path.style.access", "true");
            keys.put("fs.s3a.connection.ssl.enabled", "false");
            keys.put("fs.s3a.access.key", ACCESS_KEY);
            keys.put("fs.s3a.secret.key", SECRET_KEY);
        }
        return keys;
    }

    /** A client configuration: HDFS as the default file system, and S3A. */
    Configuration conf() {
        Configuration conf = new Configuration();
        conf.set("fs.defaultFS", hdfs());
        s3aSettings().forEach(conf::set);
        return conf;
    }

    FileSystem fs(String uri) throws IOException {
        return FileSystem.get(URI.create(uri), conf());
    }

    /** Creates a bucket (S3A cannot). */
    void createBucket(String bucket) throws IOException, InterruptedException {
        HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create(s3Endpoint() + "/" + bucket)).PUT(HttpRequest.BodyPublishers.noBody()).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, response.statusCode(), "create bucket " + bucket + ": " + response.body());
    }

    /** Copies a local folder to a Hadoop URI (hdfs:// or s3a://). */
    void upload(Path local, String uri) throws IOException {
        copy(local.toUri().toString(), uri); // S3A's copyFromLocalFile takes files only
    }

    /** Copies between Hadoop URIs (e.g. a dataset from HDFS to S3). */
    void copy(String from, String to) throws IOException {
        org.apache.hadoop.fs.FileUtil.copy(fs(from), new org.apache.hadoop.fs.Path(from), fs(to),
                new org.apache.hadoop.fs.Path(to), false, true, conf());
    }

    boolean exists(String uri) throws IOException {
        return fs(uri).exists(new org.apache.hadoop.fs.Path(uri));
    }

    String read(String uri) throws IOException {
        try (var in = fs(uri).open(new org.apache.hadoop.fs.Path(uri))) {
            return new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        }
    }

    /** Names in a folder, sorted. */
    List<String> list(String uri) throws IOException {
        List<String> names = new ArrayList<>();
        for (var status : fs(uri).listStatus(new org.apache.hadoop.fs.Path(uri))) {
            names.add(status.getPath().getName());
        }
        names.sort(null);
        return names;
    }

    @Override
    public void close() throws Exception {
        if (s3) {
            Commands.run(dir.resolve("logs"), "s3-server-stop", List.of("tools/cluster/s3-server.sh", "stop",
                    dir.resolve("s3").toString()), Map.of(), 30);
        }
        if (hadoop) {
            Commands.run(dir.resolve("logs"), "mini-hadoop-stop", List.of("tools/cluster/mini-hadoop.sh", "stop",
                    dir.resolve("hadoop").toString()), Map.of(), 60);
        }
    }
}

package dev.sparkvit.storage;

import java.io.IOException;
import java.net.HttpURLConnection;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.junit.jupiter.api.Assumptions;

/**
 * A real S3-compatible server for tests: moto's {@code moto_server} (PyPI {@code moto[server]==5.2.5}, in memory,
 * any access key) on 127.0.0.1 and a free port, reached through Hadoop's S3A. The server runs from a venv under
 * {@code ~/.cache/sparkvit/s3-venv} (or {@code $SPARKVIT_CACHE/s3-venv}), made with {@code python3 -m venv} and pip
 * when missing (the same venv as tools/cluster/s3-server.sh). Without python3 the tests using it are skipped (an
 * assumption naming why); a failing pip or server fails them.
 */
public final class MotoS3 implements AutoCloseable {
    public static final String MOTO_VERSION = "5.2.5";

    private final Process process;
    private final String endpoint;
    private final Path log;

    private MotoS3(Process process, String endpoint, Path log) {
        this.process = process;
        this.endpoint = endpoint;
        this.log = log;
    }

    /** {@code http://127.0.0.1:PORT}. */
    public String endpoint() {
        return endpoint;
    }

    /** Starts one, its log in {@code dir}; up in about 2 s (plus a pip install the first time). */
    public static MotoS3 start(Path dir) throws IOException, InterruptedException {
        Files.createDirectories(dir);
        Path venv = venv();
        Path server = venv.resolve("bin/moto_server");
        if (!Files.isExecutable(server) || !MOTO_VERSION.equals(installedVersion(venv))) {
            Assumptions.assumeTrue(run(List.of("python3", "--version"), dir) == 0, "python3 is missing: the "
                    + "tests against a real S3-compatible server (moto_server from PyPI) are skipped");
            if (!Files.isExecutable(venv.resolve("bin/pip"))) {
                check(run(List.of("python3", "-m", "venv", venv.toString()), dir), "python3 -m venv " + venv);
            }
            check(run(List.of(venv.resolve("bin/pip").toString(), "install", "-q", "--disable-pip-version-check",
                    "moto[server]==" + MOTO_VERSION), dir), "pip install moto[server]==" + MOTO_VERSION);
        }
        int port;
        try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = socket.getLocalPort();
        }
        Path log = dir.resolve("moto.log");
        Process p = new ProcessBuilder(server.toString(), "-H", "127.0.0.1", "-p", String.valueOf(port))
                .redirectErrorStream(true).redirectOutput(log.toFile()).redirectInput(ProcessBuilder.Redirect.PIPE)
                .start();
        String endpoint = "http://127.0.0.1:" + port;
        MotoS3 s3 = new MotoS3(p, endpoint, log);
        for (int waited = 0; ; waited++) {
            if (!p.isAlive()) {
                throw new IllegalStateException("moto_server did not start: " + s3.tail());
            }
            if (answers(endpoint)) {
                return s3;
            }
            if (waited > 300) {
                s3.close();
                throw new IllegalStateException("moto_server not answering within 30 s: " + s3.tail());
            }
            Thread.sleep(100);
        }
    }

    /** The S3A settings that reach this server (path-style, plain HTTP, any keys). */
    public java.util.Map<String, String> settings() {
        return java.util.Map.of("fs.s3a.endpoint", endpoint, "fs.s3a.path.style.access", "true",
                "fs.s3a.connection.ssl.enabled", "false", "fs.s3a.access.key", "test", "fs.s3a.secret.key", "test",
                "fs.s3a.aws.credentials.provider", "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider",
                "fs.s3a.attempts.maximum", "3", "fs.s3a.retry.limit", "3");
    }

    /** A Hadoop configuration reaching this server through S3A ({@link #settings()}). */
    public Configuration conf() {
        Configuration conf = new Configuration();
        configure(conf);
        return conf;
    }

    /** Applies {@link #settings()} to {@code conf} (a Spark session's Hadoop configuration). */
    public void configure(Configuration conf) {
        settings().forEach(conf::set);
    }

    /** How many requests the server logged whose line matches {@code regex} ("PUT /bucket/ds/.lock "). */
    public long requests(String regex) throws IOException {
        java.util.regex.Pattern p = java.util.regex.Pattern.compile(regex);
        return Files.readAllLines(log, StandardCharsets.UTF_8).stream().filter(l -> p.matcher(l).find()).count();
    }

    /** Creates a bucket (a PUT of {@code /NAME}). */
    public void createBucket(String name) throws IOException {
        HttpURLConnection c = (HttpURLConnection) URI.create(endpoint + "/" + name).toURL().openConnection();
        c.setRequestMethod("PUT");
        c.setDoOutput(true);
        c.getOutputStream().close();
        int code = c.getResponseCode();
        c.disconnect();
        if (code != 200) {
            throw new IOException("cannot create bucket " + name + ": HTTP " + code);
        }
    }

    /** A new S3A client of {@code s3a://BUCKET} (not the shared cached one). */
    public FileSystem fs(String bucket) throws IOException {
        return FileSystem.newInstance(URI.create("s3a://" + bucket), conf());
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private String tail() {
        try {
            List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    private static Path venv() {
        String cache = System.getenv("SPARKVIT_CACHE");
        return (cache != null && !cache.isBlank() ? Path.of(cache) : Path.of(System.getProperty("user.home"),
                ".cache", "sparkvit")).resolve("s3-venv");
    }

    private static String installedVersion(Path venv) {
        try {
            Process p = new ProcessBuilder(venv.resolve("bin/python").toString(), "-c",
                    "import importlib.metadata as m; print(m.version('moto'))").redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            return p.waitFor() == 0 ? out : null;
        } catch (IOException | InterruptedException e) {
            return null;
        }
    }

    private static int run(List<String> command, Path dir) throws InterruptedException {
        try {
            return new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(dir.resolve("setup.log")
                    .toFile()).start().waitFor();
        } catch (IOException e) {
            return -1;
        }
    }

    private static void check(int code, String what) {
        if (code != 0) {
            throw new IllegalStateException(what + " failed (exit " + code + ")");
        }
    }

    private static boolean answers(String endpoint) {
        try {
            HttpURLConnection c = (HttpURLConnection) URI.create(endpoint + "/").toURL().openConnection();
            c.setConnectTimeout(1000);
            c.setReadTimeout(1000);
            int code = c.getResponseCode();
            c.disconnect();
            return code > 0;
        } catch (IOException e) {
            return false;
        }
    }
}

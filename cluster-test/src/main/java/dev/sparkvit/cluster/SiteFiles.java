package dev.sparkvit.cluster;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.yarn.conf.YarnConfiguration;

/**
 * The client configuration of the mini clusters, as a {@code HADOOP_CONF_DIR}: only the keys a client needs. Not a
 * dump of the whole Configuration: that would carry every default, fs.defaultFS=file:/// among them, and a
 * yarn-site.xml read after core-site.xml would override core-site's HDFS.
 */
final class SiteFiles {
    private final Path dir;

    SiteFiles(Path dir) {
        this.dir = dir;
    }

    void writeCore(String defaultFs) throws IOException {
        Map<String, String> keys = new LinkedHashMap<>();
        keys.put("fs.defaultFS", defaultFs);
        write("core-site.xml", keys);
    }

    void writeHdfs() throws IOException {
        write("hdfs-site.xml", Map.of("dfs.replication", "1"));
    }

    /** Writes yarn-site.xml from the started cluster's addresses; returns the RM web app's host:port. */
    String writeYarn(Configuration started) throws IOException {
        Map<String, String> keys = new LinkedHashMap<>();
        keys.put(YarnConfiguration.RM_HOSTNAME, "127.0.0.1");
        for (String key : new String[] {YarnConfiguration.RM_ADDRESS, YarnConfiguration.RM_SCHEDULER_ADDRESS,
            YarnConfiguration.RM_RESOURCE_TRACKER_ADDRESS, YarnConfiguration.RM_ADMIN_ADDRESS,
            YarnConfiguration.RM_WEBAPP_ADDRESS}) {
            String address = loopback(started.get(key));
            if (address.endsWith(":0")) {
                throw new IllegalStateException(key + " has no port after start: " + started.get(key));
            }
            keys.put(key, address);
        }
        keys.put(YarnConfiguration.RM_SCHEDULER_MINIMUM_ALLOCATION_MB,
                started.get(YarnConfiguration.RM_SCHEDULER_MINIMUM_ALLOCATION_MB));
        write("yarn-site.xml", keys);
        return keys.get(YarnConfiguration.RM_WEBAPP_ADDRESS);
    }

    /** host:port with the host replaced by 127.0.0.1, where every server here binds. */
    static String loopback(String address) {
        return "127.0.0.1:" + address.substring(address.lastIndexOf(':') + 1);
    }

    private void write(String name, Map<String, String> keys) throws IOException {
        StringBuilder xml = new StringBuilder("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                + "<!-- written by dev.sparkvit.cluster.MiniHadoop (make cluster-test) -->\n<configuration>\n");
        keys.forEach((k, v) -> xml.append("  <property><name>").append(k).append("</name><value>").append(v)
                .append("</value></property>\n"));
        xml.append("</configuration>\n");
        Path tmp = dir.resolve("." + name + ".tmp");
        Files.writeString(tmp, xml, StandardCharsets.UTF_8);
        Files.move(tmp, dir.resolve(name), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }
}

package dev.sparkvit.cluster;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.hdfs.MiniDFSCluster;
import org.apache.hadoop.yarn.conf.YarnConfiguration;
import org.apache.hadoop.yarn.server.MiniYARNCluster;

/**
 * A real HDFS (MiniDFSCluster, one DataNode) and YARN (MiniYARNCluster, one ResourceManager and one NodeManager) on
 * 127.0.0.1 with free ports, for {@code make cluster-test}:
 *
 * <pre>java -cp cluster-test/target/classes:$(cat cluster-test/target/classpath.txt) dev.sparkvit.cluster.MiniHadoop
 *     CONF_DIR WORK_DIR [NODE_MEMORY_MB]</pre>
 *
 * writes {@code core-site.xml}, {@code hdfs-site.xml} and {@code yarn-site.xml} for clients into CONF_DIR (a
 * {@code HADOOP_CONF_DIR}), keeps the clusters' data under WORK_DIR, prints one line starting with {@value #READY} and
 * runs until it is killed (SIGTERM stops both clusters). tools/cluster/mini-hadoop.sh wraps it.
 */
public final class MiniHadoop {
    /** The line's start that says both clusters are up and the site files written. */
    public static final String READY = "mini-hadoop: ready";

    private MiniHadoop() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 2 || args.length > 3 || (args.length == 3 && !args[2].matches("[1-9][0-9]*"))) {
            System.err.println("usage: MiniHadoop CONF_DIR WORK_DIR [NODE_MEMORY_MB]");
            System.exit(2);
        }
        Path confDir = Path.of(args[0]).toAbsolutePath();
        Path work = Path.of(args[1]).toAbsolutePath();
        int nodeMemory = args.length == 3 ? Integer.parseInt(args[2]) : 4096;
        Files.createDirectories(confDir);
        Files.createDirectories(work);

        Configuration hdfsConf = new Configuration();
        hdfsConf.set(MiniDFSCluster.HDFS_MINIDFS_BASEDIR, work.resolve("hdfs").toString());
        hdfsConf.set("dfs.namenode.rpc-bind-host", "127.0.0.1");
        hdfsConf.set("dfs.namenode.http-bind-host", "127.0.0.1");
        hdfsConf.setInt("dfs.replication", 1);
        MiniDFSCluster hdfs = new MiniDFSCluster.Builder(hdfsConf).numDataNodes(1).build();
        hdfs.waitActive();
        String defaultFs = "hdfs://127.0.0.1:" + hdfs.getNameNodePort();

        // MiniYARNCluster keeps its NodeManager's folders under ./target/<name>: run in WORK_DIR
        System.setProperty("user.dir", work.toString());
        MiniYARNCluster yarn = new MiniYARNCluster("sparkvit-yarn", 1, 1, 1);
        yarn.init(yarnConf(defaultFs, nodeMemory, work));
        yarn.start();
        if (!yarn.waitForNodeManagersToConnect(60_000)) {
            throw new IllegalStateException("the NodeManager did not register with the ResourceManager in 60 s");
        }
        RmRestApi.takeBackGuicePipeline(yarn.getResourceManager());

        SiteFiles site = new SiteFiles(confDir);
        site.writeCore(defaultFs);
        site.writeHdfs();
        String web = site.writeYarn(yarn.getConfig());

        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                yarn.stop();
                hdfs.shutdown();
            } finally {
                stopped.countDown();
            }
        }, "mini-hadoop-stop"));
        System.out.printf("%s fs=%s rm=%s web=http://%s node_memory_mb=%d pid=%d%n", READY, defaultFs,
                SiteFiles.loopback(yarn.getConfig().get(YarnConfiguration.RM_ADDRESS)), web, nodeMemory,
                ProcessHandle.current().pid());
        System.out.flush();
        stopped.await();
    }

    private static YarnConfiguration yarnConf(String defaultFs, int nodeMemory, Path work) {
        YarnConfiguration conf = new YarnConfiguration();
        conf.set("fs.defaultFS", defaultFs);
        // MiniYARNCluster copies this over yarn.nodemanager.resource.memory-mb
        conf.setInt("yarn.minicluster.yarn.nodemanager.resource.memory-mb", nodeMemory);
        conf.setInt(YarnConfiguration.NM_PMEM_MB, nodeMemory);
        conf.setInt(YarnConfiguration.RM_SCHEDULER_MINIMUM_ALLOCATION_MB, 128);
        conf.setBoolean(YarnConfiguration.NM_PMEM_CHECK_ENABLED, false);
        conf.setBoolean(YarnConfiguration.NM_VMEM_CHECK_ENABLED, false);
        conf.setFloat(YarnConfiguration.NM_MAX_PER_DISK_UTILIZATION_PERCENTAGE, 99.0f);
        conf.set(YarnConfiguration.RM_BIND_HOST, "127.0.0.1");
        conf.set(YarnConfiguration.NM_BIND_HOST, "127.0.0.1");
        conf.set(YarnConfiguration.RM_HOSTNAME, "127.0.0.1");
        // containers' logs stay after they end, for a failing test to show
        conf.set(YarnConfiguration.NM_LOG_DIRS, work.resolve("yarn-logs").toString());
        conf.set("yarn.nodemanager.local-dirs", work.resolve("yarn-local").toString());
        new File(work.resolve("yarn-logs").toString()).mkdirs();
        return conf;
    }
}

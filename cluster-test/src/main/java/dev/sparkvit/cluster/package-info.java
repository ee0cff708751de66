/**
 * The servers of {@code make cluster-test} (module cluster-test, built only with {@code -Pcluster}):
 * {@link dev.sparkvit.cluster.MiniHadoop} runs a MiniDFSCluster and a MiniYARNCluster on 127.0.0.1 with free ports
 * and writes a HADOOP_CONF_DIR ({@link dev.sparkvit.cluster.SiteFiles}); {@link dev.sparkvit.cluster.RmRestApi}
 * gives the ResourceManager's REST API back from the NodeManager's web app. tools/cluster/mini-hadoop.sh starts it;
 * the tests in this module's test sources submit sparkvit to it through submit/spark-submit.sh. Nothing of the
 * product depends on this package.
 */
package dev.sparkvit.cluster;

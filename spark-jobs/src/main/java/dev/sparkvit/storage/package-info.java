/**
 * Where users' paths live: local folders, or any Hadoop file system ({@code hdfs://}, {@code s3a://}).
 * {@link dev.sparkvit.storage.Locations} tells them apart and keeps remote URIs intact (java.nio would turn
 * {@code hdfs://host:port/ds} into {@code hdfs:/host:port/ds}); {@link dev.sparkvit.storage.RunFolder} gives a training
 * run a local working folder that is published to a remote output folder; {@link dev.sparkvit.storage.LocalCopies}
 * reads a remote input file (weights, class lists) through a local copy.
 */
package dev.sparkvit.storage;

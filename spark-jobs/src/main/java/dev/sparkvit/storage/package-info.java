/**
 * Where users' paths live: local folders, or any Hadoop file system ({@code hdfs://}, {@code s3a://}).
 * {@link dev.sparkvit.storage.Locations} tells them apart and keeps remote URIs intact (java.nio would turn
 * {@code hdfs://host:port/ds} into {@code hdfs:/host:port/ds}); {@link dev.sparkvit.storage.RunFolder} gives a training
 * run a local working folder that is published to a remote output folder; {@link dev.sparkvit.storage.LocalCopies}
 * reads a remote input file (weights, class lists) through a local copy; {@link dev.sparkvit.storage.AtomicFiles} and
 * {@link dev.sparkvit.storage.AtomicReplace} write a file whole or not at all, locally and on Hadoop file systems;
 * {@link dev.sparkvit.storage.IoCause} and {@link dev.sparkvit.storage.WriteFailedException} report a failed write in
 * one line. It imports no other sparkvit package: {@code config}, {@code lock}, {@code report} and the jobs sit on it.
 */
package dev.sparkvit.storage;

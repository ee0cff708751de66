/**
 * The lock a run takes on a folder it changes, shared by the model registry and datasets: {@link
 * dev.sparkvit.lock.FolderLock} (a lock file naming its holder, {@link dev.sparkvit.lock.LockHolder}, taken over only
 * when its holder is provably dead, or on HDFS and S3 when its lease has expired, {@link dev.sparkvit.lock.LeasedLock};
 * on S3 a dataset's lock is taken by write, settle, verify).
 */
package dev.sparkvit.lock;

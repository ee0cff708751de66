package dev.sparkvit.jobs.retrain;

import dev.sparkvit.lock.FolderLock;
import dev.sparkvit.lock.LockHeldException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A separate JVM contending for a registry lock (RegistryLockTest): creates {@code GO.ready-PID}, waits until
 * {@code GO} exists, tries to take
 * the lock, prints {@code acquired} and holds it until {@code DONE} exists (exit 0), or prints {@code held: message}
 * and exits 4 at once.
 *
 * <pre>java -cp ... dev.sparkvit.jobs.retrain.LockContender REGISTRY GO DONE</pre>
 */
public final class LockContender {
    private LockContender() {
    }

    public static void main(String[] args) throws Exception {
        ModelRegistry registry = new ModelRegistry(Path.of(args[0]));
        Path go = Path.of(args[1]);
        Path done = Path.of(args[2]);
        Files.createFile(go.resolveSibling(go.getFileName() + ".ready-" + ProcessHandle.current().pid()));
        while (!Files.exists(go)) {
            Thread.sleep(5);
        }
        try (FolderLock lock = registry.lock(line -> System.out.println("warning: " + line))) {
            System.out.println("acquired");
            System.out.flush();
            while (!Files.exists(done)) {
                Thread.sleep(20);
            }
        } catch (LockHeldException e) {
            System.out.println("held: " + e.getMessage());
            System.exit(4);
        }
    }
}

package dev.sparkvit.cli;

import java.io.PrintWriter;
import java.io.Writer;
import java.util.Properties;
import java.util.function.IntConsumer;

/**
 * How the driver's JVM ends once a command has returned its exit code. A command line (local, client mode) exits
 * with the code. In YARN cluster mode the ApplicationMaster runs {@code main} in a thread and reports the
 * application's final status from how {@code main} ends: {@code System.exit} there, even with 0, skips that report,
 * so YARN marks the attempt FAILED and starts another one, which finds the first one's checkpoints and refuses (issue
 * 19). There {@code main} returns on success and throws {@link CommandFailedException} carrying the code and the
 * command's error line otherwise, which YARN shows as the application's diagnostics; spark-submit exits 0 or 1.
 */
final class DriverExit {
    private DriverExit() {
    }

    /** A command that ended with a non-zero exit code inside YARN's ApplicationMaster. */
    static final class CommandFailedException extends RuntimeException {
        private static final long serialVersionUID = 1L;
        private final int code;

        CommandFailedException(int code, String line) {
            super("sparkvit exited with code " + code + (line == null ? "" : ": " + line));
            this.code = code;
        }

        int code() {
            return code;
        }
    }

    /** Whether this JVM is the driver inside a YARN ApplicationMaster (spark-submit --deploy-mode cluster). */
    static boolean inYarnApplicationMaster(Properties system) {
        return String.valueOf(system.getProperty("spark.master")).startsWith("yarn")
                && "cluster".equals(system.getProperty("spark.submit.deployMode"));
    }

    /**
     * Ends the driver after a command returned {@code code}: {@code exit} with the code, or, inside YARN's
     * ApplicationMaster, a normal return (code 0) or a {@link CommandFailedException} naming {@code lastError}.
     */
    static void end(int code, Properties system, IntConsumer exit, String lastError) {
        if (!inYarnApplicationMaster(system)) {
            exit.accept(code);
            return;
        }
        if (code != ExitCodes.OK) {
            throw new CommandFailedException(code, lastError);
        }
    }

    /** A writer to {@code out} that remembers the last non-blank line written (the command's error line). */
    static final class LastLine extends Writer {
        private final PrintWriter out;
        private final StringBuilder current = new StringBuilder();
        private String last;

        LastLine(PrintWriter out) {
            this.out = out;
        }

        @Override
        public void write(char[] buf, int off, int len) {
            out.write(buf, off, len);
            for (int i = off; i < off + len; i++) {
                if (buf[i] == '\n') {
                    if (!current.toString().isBlank()) {
                        last = current.toString().strip();
                    }
                    current.setLength(0);
                } else if (current.length() < 4096) {
                    current.append(buf[i]);
                }
            }
        }

        @Override
        public void flush() {
            out.flush();
        }

        @Override
        public void close() {
            out.flush();
        }

        /** The last non-blank line written so far, or null. */
        String last() {
            return !current.toString().isBlank() ? current.toString().strip() : last;
        }
    }
}

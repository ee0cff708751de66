package dev.sparkvit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.junit.jupiter.api.Test;

/**
 * A yarn-cluster driver must not call System.exit (issue 19, bug 2: YARN then marked a finished run FAILED and started
 * a second attempt); everywhere else the JVM exits with the command's code.
 */
class DriverExitTest {
    private static Properties props(String master, String mode) {
        Properties p = new Properties();
        if (master != null) {
            p.setProperty("spark.master", master);
        }
        if (mode != null) {
            p.setProperty("spark.submit.deployMode", mode);
        }
        return p;
    }

    @Test
    void localClientAndOtherClusterDriversExitWithTheCode() {
        for (Properties p : List.of(props(null, null), props("local[2]", "client"), props("yarn", "client"),
                props("spark://127.0.0.1:7077", "cluster"), props("k8s://https://10.0.0.1", "client"))) {
            List<Integer> exits = new ArrayList<>();
            DriverExit.end(2, p, exits::add, "sparkvit: bad");
            DriverExit.end(0, p, exits::add, null);
            assertEquals(List.of(2, 0), exits, p.toString());
        }
    }

    @Test
    void aYarnClusterDriverReturnsOnSuccessAndThrowsTheErrorLineOnFailure() {
        Properties am = props("yarn", "cluster");
        assertTrue(DriverExit.inYarnApplicationMaster(am));
        List<Integer> exits = new ArrayList<>();
        DriverExit.end(0, am, exits::add, null);
        assertEquals(List.of(), exits, "no System.exit: the ApplicationMaster reports SUCCEEDED itself");
        DriverExit.CommandFailedException e = assertThrows(DriverExit.CommandFailedException.class,
                () -> DriverExit.end(2, am, exits::add, "sparkvit: conf/x.yaml: training.epochs = 0 is out of range"));
        assertEquals(2, e.code());
        assertEquals("sparkvit exited with code 2: sparkvit: conf/x.yaml: training.epochs = 0 is out of range",
                e.getMessage());
        assertEquals(List.of(), exits);
    }

    @Test
    void theLastErrorLineIsRememberedAndPassedOn() {
        StringWriter sink = new StringWriter();
        DriverExit.LastLine err = new DriverExit.LastLine(new PrintWriter(sink, true));
        PrintWriter writer = new PrintWriter(err, true);
        writer.println("first line");
        writer.println("sparkvit: --epochs = 0 is out of range");
        writer.println("   ");
        assertEquals("sparkvit: --epochs = 0 is out of range", err.last());
        assertTrue(sink.toString().startsWith("first line"));
        assertFalse(DriverExit.inYarnApplicationMaster(props("yarn", null)));
    }
}

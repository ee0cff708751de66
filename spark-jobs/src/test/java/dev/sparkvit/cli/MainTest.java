package dev.sparkvit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class MainTest {

    private static int run(StringWriter err, StringWriter out, String... args) {
        CommandLine commandLine = Main.commandLine();
        commandLine.setErr(new PrintWriter(err, true));
        commandLine.setOut(new PrintWriter(out, true));
        return commandLine.execute(args);
    }

    @Test
    void invalidOptionValueIsBadInputNamingTheOption() {
        StringWriter err = new StringWriter();
        int code = run(err, new StringWriter(), "demo", "--epochs", "0");
        assertEquals(ExitCodes.BAD_INPUT, code);
        assertTrue(err.toString().contains("--epochs = 0"), err.toString());
    }

    @Test
    void unknownOptionIsBadInput() {
        StringWriter err = new StringWriter();
        int code = run(err, new StringWriter(), "demo", "--epoch", "3");
        assertEquals(ExitCodes.BAD_INPUT, code);
        assertTrue(err.toString().contains("--epoch"), err.toString());
    }

    @Test
    void helpListsTheDemo() {
        StringWriter out = new StringWriter();
        assertEquals(ExitCodes.OK, run(new StringWriter(), out, "--help"));
        assertTrue(out.toString().contains("demo"), out.toString());
    }
}

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
    void modelSummaryReportsVitBaseFigures() {
        StringWriter out = new StringWriter();
        assertEquals(ExitCodes.OK, run(new StringWriter(), out, "model-summary", "--preset", "vit_base_patch16_224"));
        String text = out.toString();
        assertTrue(text.contains("86,586,088 (86.59 M)"), text);
        assertTrue(text.contains("(17.56 G)"), text);
        assertTrue(text.contains("18,432 parameters (0.0213% of all)"), text);
    }

    @Test
    void modelSummaryUnknownPresetIsBadInput() {
        StringWriter err = new StringWriter();
        assertEquals(ExitCodes.BAD_INPUT, run(err, new StringWriter(), "model-summary", "--preset", "vit_huge"));
        assertTrue(err.toString().contains("known presets"), err.toString());
    }

    @Test
    void helpListsTheDemo() {
        StringWriter out = new StringWriter();
        assertEquals(ExitCodes.OK, run(new StringWriter(), out, "--help"));
        assertTrue(out.toString().contains("demo"), out.toString());
    }
}

package dev.sparkvit.bench.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkvit.cli.ExitCodes;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class BenchMainTest {

    private static int run(StringWriter err, StringWriter out, String... args) {
        CommandLine commandLine = BenchMain.commandLine();
        commandLine.setErr(new PrintWriter(err, true));
        commandLine.setOut(new PrintWriter(out, true));
        return commandLine.execute(args);
    }

    @Test
    void gemmBenchWithAnUnknownBackendIsBadInputNamingIt() {
        StringWriter err = new StringWriter();
        int code = run(err, new StringWriter(), "gemm", "--sizes", "8", "--backends", "mkl,cublas");
        assertEquals(ExitCodes.BAD_INPUT, code);
        assertTrue(err.toString().contains("--backends: unknown backend 'cublas'"), err.toString());
    }

    @Test
    void benchDataRejectsBadSizesBeforeStarting() {
        StringWriter err = new StringWriter();
        assertEquals(ExitCodes.BAD_INPUT, run(err, new StringWriter(), "data", "--sizes", "32,4"));
        assertTrue(err.toString().contains("--sizes"), err.toString());
        assertEquals(ExitCodes.BAD_INPUT, run(new StringWriter(), new StringWriter(), "data",
                "--local-cores", "0"));
    }

    @Test
    void helpListsTheBenchmarks() {
        StringWriter out = new StringWriter();
        assertEquals(ExitCodes.OK, run(new StringWriter(), out, "--help"));
        for (String command : new String[] {"gemm", "vit", "product", "data", "dataset"}) {
            assertTrue(out.toString().contains(command), out.toString());
        }
    }
}

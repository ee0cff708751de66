package dev.sparkvit.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkvit.jobs.finetune.FinetuneConfig;
import dev.sparkvit.jobs.pretrain.PretrainConfig;
import dev.sparkvit.jobs.retrain.RetrainConfig;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Seeded fuzzing of the config readers: the shipped conf/pretrain.yaml, conf/finetune.yaml and conf/retrain.yaml
 * (their data paths pointed at a temporary folder), each mutated a thousand times (lines deleted, duplicated or
 * re-indented, values replaced by other types, huge, negative, NaN, empty, lists or mappings, keys misspelt, tabs,
 * unbalanced quotes and brackets, random and invalid UTF-8 bytes, truncation, includes of missing files or of the
 * file itself, recursive aliases), read by YamlConfig and the job's reader. Each outcome must be a settings object
 * or a ConfigException naming the file (and, for a misspelt key, the key); any other throwable is a bug. A sample
 * of the rejected files also goes through the CLI: exit code 2 and one line on stderr, no stack trace.
 *
 * <p>Reproduce or widen: {@code -Dsparkvit.fuzz.seed=N -Dsparkvit.fuzz.mutations=M} (per file; 1000 by default).
 */
class ConfigFuzzTest {
    private static final long SEED = Long.getLong("sparkvit.fuzz.seed", 20261123L);
    private static final int MUTATIONS = Integer.getInteger("sparkvit.fuzz.mutations", 1000);
    private static final int CLI_SAMPLE = 40;
    private static final Path CONF = Path.of("..", "conf");
    private static final Pattern KEY_LINE = Pattern.compile("^(\\s*)([A-Za-z_][A-Za-z0-9_]*):(\\s*)([^#]*?)(\\s*#.*)?$");
    private static final String[] VALUES = {"abc", "1e309", "-1e309", "99999999999999999999", "2147483648",
        "-2147483649", "-1", "-0", "0", ".nan", "NaN", ".inf", "-.inf", "", "''", "\"\"", "~", "null", "[1, 2]",
        "[]", "{a: 1}", "{}", "true", "no", "0x1F", "0o17", "0b101", "1_000", "1e-400", "0.5.5", "∞", "\"unterminated",
        "'unterminated", "[unbalanced", "{x", "]", "}", "&anchor", "*alias", "!!binary abc", "!!python/object:os.system",
        "!custom x", "|", ">", "? complex", "- item", "a: b: c", "%", "@at", "`tick`", "\"\\u0000\"", "\"\\x\"",
        "12:30:00", "2026-11-23", "1:2", "\u0000", "\uFEFF", "x".repeat(5000)};

    @TempDir
    Path tmp;
    private Path conf;
    private Path dataset;

    /** The job a config file is for: its reader, and its CLI command. */
    private record Job(String file, String command, Function<YamlConfig, Object> reader) {
    }

    private final List<Job> jobs = List.of(
            new Job("pretrain.yaml", "pretrain", PretrainConfig::read),
            new Job("finetune.yaml", "finetune", FinetuneConfig::read),
            new Job("retrain.yaml", "retrain", RetrainConfig::read));

    /** conf/ copied to tmp with data paths pointing at existing temporary folders and files. */
    @BeforeEach
    void copyConf() throws IOException {
        conf = tmp.resolve("conf");
        try (Stream<Path> walk = Files.walk(CONF)) {
            for (Path p : walk.toList()) {
                Path to = conf.resolve(CONF.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(to);
                } else {
                    Files.copy(p, to);
                }
            }
        }
        dataset = Files.createDirectories(tmp.resolve("dataset"));
        Path weights = Files.write(tmp.resolve("weights.safetensors"), new byte[8]);
        Path raw = Files.createDirectories(tmp.resolve("raw"));
        replace("pretrain.yaml", "out/demo/dataset", dataset.toString());
        replace("finetune.yaml", "out/demo/dataset", dataset.toString());
        replace("finetune.yaml", "out/pretrain/pretrained-ema.safetensors", weights.toString());
        replace("retrain.yaml", "out/demo/raw", raw.toString());
        replace("retrain.yaml", "conf/finetune.yaml", conf.resolve("finetune.yaml").toString());
        for (String dir : List.of("out/pretrain", "out/finetune", "out/retrain/dataset", "out/registry",
                "out/retrain/work")) {
            for (Job job : jobs) {
                replace(job.file(), dir, tmp.resolve(dir).toString());
            }
        }
    }

    private void replace(String file, String from, String to) throws IOException {
        Path path = conf.resolve(file);
        Files.writeString(path, Files.readString(path).replace(from, to));
    }

    @Test
    void everyMutatedConfigReadsOrFailsWithAConfigExceptionNamingTheFile() throws IOException {
        Random random = new Random(SEED);
        Random sampling = new Random(SEED + 1); // apart, so the mutants do not depend on the outcomes
        List<String> failures = new ArrayList<>();
        Map<String, Integer> outcomes = new TreeMap<>();
        List<String[]> rejected = new ArrayList<>(); // {command, file}
        for (Job job : jobs) {
            Path original = conf.resolve(job.file());
            job.reader().apply(YamlConfig.load(original)); // unmutated: valid
            List<String> lines = Files.readAllLines(original);
            for (int i = 0; i < MUTATIONS; i++) {
                String name = job.command() + "-" + i + ".yaml";
                List<String> mutated = new ArrayList<>(lines);
                List<String> applied = new ArrayList<>();
                String typo = null;
                String typoOf = null;
                byte[] raw = null;
                int count = 1 + (random.nextInt(4) == 0 ? random.nextInt(3) : 0);
                for (int m = 0; m < count && !mutated.isEmpty(); m++) {
                    int at = random.nextInt(mutated.size());
                    String line = mutated.get(at);
                    switch (random.nextInt(12)) {
                        case 0 -> {
                            mutated.remove(at);
                            applied.add("delete line " + (at + 1));
                        }
                        case 1 -> {
                            mutated.add(at, line);
                            applied.add("duplicate line " + (at + 1));
                        }
                        case 2 -> {
                            int shift = random.nextInt(9) - 4;
                            mutated.set(at, shift >= 0 ? " ".repeat(shift) + line
                                    : line.replaceFirst("^ {1," + -shift + "}", ""));
                            applied.add("indent line " + (at + 1) + " by " + shift);
                        }
                        case 3, 4, 5 -> {
                            int keyLine = keyLine(mutated, random);
                            if (keyLine < 0) {
                                break;
                            }
                            Matcher k = KEY_LINE.matcher(mutated.get(keyLine));
                            k.matches();
                            String value = VALUES[random.nextInt(VALUES.length)];
                            mutated.set(keyLine, k.group(1) + k.group(2) + ": " + value);
                            applied.add("line " + (keyLine + 1) + " " + k.group(2) + " = " + abbreviate(value));
                        }
                        case 6 -> {
                            int keyLine = keyLine(mutated, random);
                            if (keyLine < 0) {
                                break;
                            }
                            Matcher k = KEY_LINE.matcher(mutated.get(keyLine));
                            k.matches();
                            String key = k.group(2);
                            String misspelt = misspell(key, random);
                            mutated.set(keyLine, k.group(1) + misspelt + ":" + k.group(3) + k.group(4));
                            if (count == 1) {
                                typo = misspelt;
                                typoOf = key;
                            }
                            applied.add("line " + (keyLine + 1) + " key " + key + " -> " + misspelt);
                        }
                        case 7 -> {
                            int col = random.nextInt(line.length() + 1);
                            mutated.set(at, line.substring(0, col) + "\t" + line.substring(col));
                            applied.add("tab in line " + (at + 1) + " at " + col);
                        }
                        case 8 -> {
                            String junk = List.of("\"", "'", "[", "]", "{", "}", ": :", "&", "*", "!", "|", "- ",
                                    "---", "...", "%YAML 1.1", "? ").get(random.nextInt(16));
                            int col = random.nextInt(line.length() + 1);
                            mutated.set(at, line.substring(0, col) + junk + line.substring(col));
                            applied.add("'" + junk + "' in line " + (at + 1) + " at " + col);
                        }
                        case 9 -> {
                            String text = String.join("\n", mutated);
                            int cut = random.nextInt(text.length() + 1);
                            mutated = new ArrayList<>(List.of(text.substring(0, cut).split("\n", -1)));
                            applied.add("truncate at " + cut);
                        }
                        case 10 -> {
                            String include = List.of("include: [missing.yaml]", "include: [" + name + "]",
                                    "include: [./" + job.file() + ", model/vit_nano.yaml]", "include: [model]",
                                    "include: model/vit_nano.yaml", "include: [[a]]", "include: [{a: 1}]",
                                    "include: [\"\"]", "include: [null]", "include: [/dev/null]",
                                    "include: [../conf/" + job.file() + "]", "include: {a: b}", "include:",
                                    "include: [" + "x/".repeat(300) + "y.yaml]").get(random.nextInt(14));
                            mutated.removeIf(l -> l.startsWith("include:") || l.startsWith("  - model/")
                                    || l.startsWith("  - augment/"));
                            mutated.add(0, include);
                            applied.add(include);
                        }
                        default -> {
                            switch (random.nextInt(4)) {
                                case 0 -> {
                                    raw = new byte[1 + random.nextInt(64)];
                                    random.nextBytes(raw);
                                    applied.add("random bytes at line " + (at + 1));
                                }
                                case 1 -> {
                                    mutated.add(at, "anchor: &a [*a]");
                                    mutated.add(at + 1, "loop: &b {x: *b}");
                                    applied.add("recursive aliases at line " + (at + 1));
                                }
                                case 2 -> {
                                    mutated.add(at, "deep: " + "[".repeat(2000) + "]".repeat(2000));
                                    applied.add("2000 nested lists at line " + (at + 1));
                                }
                                default -> {
                                    mutated.add(at, "a: &a [x, x, x, x, x, x, x, x, x]");
                                    for (char c = 'b'; c <= 'k'; c++) {
                                        mutated.add(at + 1, c + ": &" + c + " [*" + (char) (c - 1) + ", *"
                                                + (char) (c - 1) + ", *" + (char) (c - 1) + ", *" + (char) (c - 1)
                                                + ", *" + (char) (c - 1) + ", *" + (char) (c - 1) + "]");
                                    }
                                    applied.add("alias bomb at line " + (at + 1));
                                }
                            }
                        }
                    }
                    if (raw != null) {
                        break;
                    }
                }
                // beside the copied conf/ files, so that relative includes resolve as in conf/
                Path file = conf.resolve(name);
                byte[] bytes = String.join("\n", mutated).getBytes(StandardCharsets.UTF_8);
                if (raw != null) {
                    int at = random.nextInt(bytes.length + 1);
                    ByteArrayOutputStream out = new ByteArrayOutputStream();
                    out.write(bytes, 0, at);
                    out.write(raw, 0, raw.length);
                    out.write(bytes, at, bytes.length - at);
                    bytes = out.toByteArray();
                }
                Files.write(file, bytes);
                String what = job.file() + " #" + i + " " + applied;
                try {
                    job.reader().apply(YamlConfig.load(file));
                    outcomes.merge(job.command() + " read", 1, Integer::sum);
                } catch (ConfigException e) {
                    outcomes.merge(job.command() + " ConfigException", 1, Integer::sum);
                    String message = String.valueOf(e.getMessage());
                    // the file where the bad value was written: the mutant, or a fragment it includes
                    boolean namesFile = message.contains(file.getFileName().toString())
                            || message.startsWith(conf.resolve("model").toString())
                            || message.startsWith(conf.resolve("augment").toString());
                    if (!namesFile) {
                        failures.add(what + ": message does not name the file: " + message);
                    } else if (typo != null && !message.contains(typo) && !message.contains(typoOf)) {
                        failures.add(what + ": message names neither " + typo + " nor " + typoOf + ": " + message);
                    } else if (message.contains("\n") || message.length() > 2000) {
                        failures.add(what + ": message is not one short line: " + abbreviate(message));
                    }
                    if (rejected.size() < CLI_SAMPLE * 3 && sampling.nextInt(8) == 0) {
                        rejected.add(new String[] {job.command(), file.toString()});
                    }
                } catch (Throwable e) { // any other exception or error is a bug
                    outcomes.merge(job.command() + " " + e.getClass().getSimpleName(), 1, Integer::sum);
                    failures.add(what + ": " + e.getClass().getName() + ": " + abbreviate(String.valueOf(
                            e.getMessage())));
                }
            }
        }
        System.out.println("config fuzz, seed " + SEED + ", " + 3 * MUTATIONS + " mutants: " + outcomes);
        assertTrue(failures.isEmpty(), failures.size() + " bad outcomes:\n" + String.join("\n",
                failures.subList(0, Math.min(40, failures.size()))));

        int ran = 0;
        for (String[] bad : rejected) {
            StringWriter err = new StringWriter();
            StringWriter out = new StringWriter();
            CommandLine cli = dev.sparkvit.cli.MainAccess.commandLine();
            cli.setErr(new PrintWriter(err, true));
            cli.setOut(new PrintWriter(out, true));
            int code = cli.execute(bad[0], "--config", bad[1]);
            String text = err.toString().strip();
            assertEquals(2, code, bad[0] + " " + bad[1] + ": " + text);
            assertTrue(text.startsWith("sparkvit: ") && !text.contains("\n") && !text.contains("\tat "),
                    "one line, no stack trace: " + text);
            assertTrue(text.contains(Path.of(bad[1]).getFileName().toString()), text);
            ran++;
        }
        System.out.println("config fuzz: " + ran + " rejected mutants through the CLI, each exit code 2, one line");
        assertTrue(ran >= CLI_SAMPLE, "CLI sample of " + ran);
    }

    /** A random line holding a key, or -1. */
    private static int keyLine(List<String> lines, Random random) {
        List<Integer> keys = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            if (KEY_LINE.matcher(lines.get(i)).matches() && !lines.get(i).trim().startsWith("#")) {
                keys.add(i);
            }
        }
        return keys.isEmpty() ? -1 : keys.get(random.nextInt(keys.size()));
    }

    /** Drops, doubles or swaps one character, or changes the case of the key. */
    private static String misspell(String key, Random random) {
        int at = random.nextInt(key.length());
        String typo = switch (random.nextInt(4)) {
            case 0 -> key.length() > 1 ? key.substring(0, at) + key.substring(at + 1) : key + "x";
            case 1 -> key.substring(0, at) + key.charAt(at) + key.substring(at);
            case 2 -> at + 1 < key.length() && key.charAt(at) != key.charAt(at + 1)
                    ? key.substring(0, at) + key.charAt(at + 1) + key.charAt(at) + key.substring(at + 2) : key + "_";
            default -> key.toUpperCase(java.util.Locale.ROOT).equals(key) ? key + "s"
                    : key.toUpperCase(java.util.Locale.ROOT);
        };
        return typo;
    }

    private static String abbreviate(String text) {
        return text.length() > 300 ? text.substring(0, 300) + "..." : text;
    }
}

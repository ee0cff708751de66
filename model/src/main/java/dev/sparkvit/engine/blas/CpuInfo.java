package dev.sparkvit.engine.blas;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Set;

/** The CPU's vendor and instruction-set flags, from the first processor of Linux's /proc/cpuinfo. */
record CpuInfo(String vendor, Set<String> flags) {
    static final Path PROC_CPUINFO = Path.of("/proc/cpuinfo");
    private static final Set<String> AVX512 = Set.of("avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl");

    /** This machine's CPU; vendor "unknown" and no flags when /proc/cpuinfo cannot be read (not Linux). */
    static CpuInfo ofThisMachine() {
        try {
            return parse(Files.readString(PROC_CPUINFO, StandardCharsets.ISO_8859_1));
        } catch (IOException | SecurityException e) {
            return new CpuInfo("unknown", Set.of());
        }
    }

    static CpuInfo parse(String cpuinfo) {
        String vendor = "unknown";
        Set<String> flags = Set.of();
        for (String line : cpuinfo.split("\n")) {
            if (line.isBlank()) {
                if (!flags.isEmpty()) {
                    break;
                }
                continue;
            }
            int colon = line.indexOf(':');
            if (colon < 0) {
                continue;
            }
            String key = line.substring(0, colon).trim();
            String value = line.substring(colon + 1).trim();
            if (key.equals("vendor_id")) {
                vendor = value;
            } else if (key.equals("flags")) {
                flags = Set.copyOf(Arrays.asList(value.split("\\s+")));
            }
        }
        return new CpuInfo(vendor, flags);
    }

    boolean isIntel() {
        return vendor.equals("GenuineIntel");
    }

    boolean hasAvx512() {
        return flags.containsAll(AVX512);
    }

    boolean hasAvx2() {
        return flags.contains("avx2") && flags.contains("fma");
    }
}

package dev.sparkvit.engine.blas;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.jna.Native;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class MklCpuDispatchTest {
    private static final Set<String> ZEN4 = Set.of("fpu", "sse2", "avx", "avx2", "fma", "avx512f", "avx512cd",
            "avx512bw", "avx512dq", "avx512vl");
    private static final CpuInfo AMD_AVX512 = new CpuInfo("AuthenticAMD", ZEN4);
    private static final CpuInfo AMD_AVX2 = new CpuInfo("AuthenticAMD", Set.of("sse2", "avx", "avx2", "fma"));
    private static final CpuInfo AMD_OLD = new CpuInfo("AuthenticAMD", Set.of("sse2", "avx"));
    private static final CpuInfo INTEL = new CpuInfo("GenuineIntel", ZEN4);

    @Test
    void autoPicksTheWidestKernelsAnAmdCpuHas() {
        assertEquals("7", MklCpuDispatch.decide(MklCpuDispatch.Mode.AUTO, AMD_AVX512, null).value());
        assertEquals("5", MklCpuDispatch.decide(MklCpuDispatch.Mode.AUTO, AMD_AVX2, null).value());
        assertNull(MklCpuDispatch.decide(MklCpuDispatch.Mode.AUTO, AMD_OLD, null).value());
        assertEquals("7", MklCpuDispatch.decide(MklCpuDispatch.Mode.AUTO,
                new CpuInfo("HygonGenuine", ZEN4), null).value());
    }

    @Test
    void intelCpusAndAValueSetBeforeStartAreLeftAlone() {
        assertNull(MklCpuDispatch.decide(MklCpuDispatch.Mode.AUTO, INTEL, null).value());
        MklCpuDispatch.Decision preset = MklCpuDispatch.decide(MklCpuDispatch.Mode.AVX2, AMD_AVX512, "4");
        assertNull(preset.value());
        assertTrue(preset.reason().contains("MKL_DEBUG_CPU_TYPE=4 was set before start"), preset.reason());
        assertNull(MklCpuDispatch.decide(MklCpuDispatch.Mode.NATIVE, AMD_AVX512, null).value());
    }

    @Test
    void aForcedPathTheCpuLacksIsRefusedNamingTheSetting() {
        assertEquals("5", MklCpuDispatch.decide(MklCpuDispatch.Mode.AVX2, INTEL, null).value());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> MklCpuDispatch.decide(MklCpuDispatch.Mode.AVX512, AMD_AVX2, null));
        assertEquals("sparkvit.mkl.cpu / SPARKVIT_MKL_CPU = avx512, but this AuthenticAMD CPU lacks "
                + "AVX-512 F/CD/BW/DQ/VL", e.getMessage());
    }

    @Test
    void theSettingComesFromThePropertyThenTheEnvironment() {
        Map<String, String> env = Map.of("SPARKVIT_MKL_CPU", "Native");
        assertEquals(MklCpuDispatch.Mode.NATIVE, MklCpuDispatch.mode(k -> null, env::get));
        assertEquals(MklCpuDispatch.Mode.AVX2, MklCpuDispatch.mode(Map.of("sparkvit.mkl.cpu", "avx2")::get,
                env::get));
        assertEquals(MklCpuDispatch.Mode.AUTO, MklCpuDispatch.mode(k -> null, k -> null));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> MklCpuDispatch.mode(k -> null, Map.of("SPARKVIT_MKL_CPU", "sse")::get));
        assertEquals("SPARKVIT_MKL_CPU=sse: expected auto, native, avx2 or avx512", e.getMessage());
    }

    @Test
    void cpuinfoIsReadFromTheFirstProcessor() {
        String text = "processor\t: 0\nvendor_id\t: AuthenticAMD\nflags\t\t: fpu avx2 fma avx2\n\n"
                + "processor\t: 1\nvendor_id\t: GenuineIntel\nflags\t\t: fpu\n";
        CpuInfo cpu = CpuInfo.parse(text);
        assertEquals("AuthenticAMD", cpu.vendor());
        assertTrue(cpu.hasAvx2());
        assertEquals(CpuInfo.parse(""), new CpuInfo("unknown", Set.of()));
    }

    @Test
    void thisJvmRunsTheChosenPath() {
        MklCpuDispatch.Decision decision = MklCpuDispatch.configure();
        MklCpuDispatch.LibC libc = Native.load("c", MklCpuDispatch.LibC.class);
        if (decision.value() != null) {
            assertEquals(decision.value(), libc.getenv("MKL_DEBUG_CPU_TYPE"));
        }
        assertTrue(decision == MklCpuDispatch.configure(), "decided once per JVM");
    }

    /**
     * The property that broke on AMD CPUs: MKL's generic path rounds the same product differently depending on the
     * operands' addresses, so two identical models gave different outputs. The same operands copied to every offset
     * of a cache line must give bit-identical products.
     */
    @Test
    void mklProductsDoNotDependOnWhereTheOperandsLie() {
        MklCpuDispatch.configure();
        RowMajorGemm gemm = new RowMajorGemm(MklSgemm.INSTANCE);
        SplittableRandom random = new SplittableRandom(7);
        int m = 65;
        int n = 192;
        int k = 576;
        float[] a = new float[m * k];
        float[] b = new float[k * n];
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) random.nextGaussian();
        }
        for (int i = 0; i < b.length; i++) {
            b[i] = (float) random.nextGaussian();
        }
        float[] reference = null;
        for (int shift = 0; shift < 16; shift++) {
            float[] as = new float[shift + a.length];
            float[] bs = new float[shift + b.length];
            float[] c = new float[shift + m * n];
            System.arraycopy(a, 0, as, shift, a.length);
            System.arraycopy(b, 0, bs, shift, b.length);
            gemm.gemm(false, false, m, n, k, 1f, as, shift, k, bs, shift, n, 0f, c, shift, n);
            float[] product = java.util.Arrays.copyOfRange(c, shift, c.length);
            if (reference == null) {
                reference = product;
            } else {
                assertArrayEquals(reference, product, "operands shifted by " + shift + " floats");
            }
        }
    }
}

package dev.sparkvit.engine.blas;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

class BlasSelectionTest {
    private static final Sgemm MKL = fake("mkl");
    private static final Sgemm OPENBLAS = fake("openblas");
    private static final Supplier<Sgemm> MISSING = () -> {
        throw new IllegalStateException("OpenBLAS library /nowhere/libblas.so.3 not found");
    };

    private static Sgemm fake(String name) {
        return new Sgemm() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public void sgemm(boolean transposeA, boolean transposeB, int m, int n, int k, float alpha, float[] a,
                    int aOffset, int lda, float[] b, int bOffset, int ldb, float beta, float[] c, int cOffset,
                    int ldc) {
                fail("not called");
            }
        };
    }

    @Test
    void autoTakesOpenBlasWhenItLoads() {
        assertSame(OPENBLAS, BlasSelection.choose(BlasBackend.AUTO, () -> MKL, () -> OPENBLAS).sgemm());
    }

    @Test
    void autoFallsBackToMklAndSaysWhy() {
        BlasSelection.Choice choice = BlasSelection.choose(BlasBackend.AUTO, () -> MKL, MISSING);
        assertSame(MKL, choice.sgemm());
        assertTrue(choice.reason().contains("/nowhere/libblas.so.3 not found"), choice.reason());
    }

    @Test
    void mklNeverLoadsOpenBlas() {
        assertSame(MKL, BlasSelection.choose(BlasBackend.MKL, () -> MKL, () -> fail("OpenBLAS loaded")).sgemm());
    }

    @Test
    void openBlasThatDoesNotLoadFailsNamingTheSettingAndTheCause() {
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> BlasSelection.choose(BlasBackend.OPENBLAS, () -> MKL, MISSING));
        assertTrue(e.getMessage().startsWith("sparkvit.blas / SPARKVIT_BLAS = openblas, but "), e.getMessage());
        assertTrue(e.getMessage().contains("/nowhere/libblas.so.3 not found"), e.getMessage());
    }

    @Test
    void openBlasThatLoadsIsChosen() {
        assertEquals("openblas", BlasSelection.choose(BlasBackend.OPENBLAS, () -> MKL, () -> OPENBLAS).sgemm().name());
    }
}

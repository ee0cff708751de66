package dev.sparkvit.model.losses;

import java.util.List;

/**
 * The two numbers NT-Xent needs from each row k of a global batch once the similarities exist: {@code logSumExp[k]
 * = log sum_{j != k} exp(s_kj)} and {@code positive[k] = s_{k,pos(k)}}, for consecutive gathered rows. Row k's loss
 * term is their difference; the gradient of every other row's term with respect to k needs {@code logSumExp}. Tasks
 * compute them for their own rows and exchange them ({@link #toArray()}, {@link #fromArray(double[])},
 * {@link #concat(List)}), which is 16 bytes per row.
 */
public record NtXentRowTerms(double[] logSumExp, double[] positive) {
    public NtXentRowTerms {
        if (logSumExp.length != positive.length) {
            throw new IllegalArgumentException("row terms of " + logSumExp.length + " and " + positive.length
                    + " rows");
        }
    }

    public int rows() {
        return logSumExp.length;
    }

    /** Row k's loss term, {@code logSumExp[k] - positive[k]}. */
    public double term(int row) {
        return logSumExp[row] - positive[row];
    }

    /** logSumExp of every row, then positive of every row: the form sent to the other tasks. */
    public double[] toArray() {
        double[] out = new double[2 * rows()];
        System.arraycopy(logSumExp, 0, out, 0, rows());
        System.arraycopy(positive, 0, out, rows(), rows());
        return out;
    }

    /** The inverse of {@link #toArray()}. */
    public static NtXentRowTerms fromArray(double[] array) {
        if (array.length % 2 != 0) {
            throw new IllegalArgumentException("row terms come in pairs; got " + array.length + " numbers");
        }
        int rows = array.length / 2;
        double[] logSumExp = new double[rows];
        double[] positive = new double[rows];
        System.arraycopy(array, 0, logSumExp, 0, rows);
        System.arraycopy(array, rows, positive, 0, rows);
        return new NtXentRowTerms(logSumExp, positive);
    }

    /** The rows of {@code parts} one after the other (every task's terms in task order give the gathered order). */
    public static NtXentRowTerms concat(List<NtXentRowTerms> parts) {
        int rows = parts.stream().mapToInt(NtXentRowTerms::rows).sum();
        double[] logSumExp = new double[rows];
        double[] positive = new double[rows];
        int at = 0;
        for (NtXentRowTerms part : parts) {
            System.arraycopy(part.logSumExp, 0, logSumExp, at, part.rows());
            System.arraycopy(part.positive, 0, positive, at, part.rows());
            at += part.rows();
        }
        return new NtXentRowTerms(logSumExp, positive);
    }
}

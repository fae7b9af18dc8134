package dev.amalgam.merge.kernel;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Comparator;
import java.util.Random;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.*;

class MagnitudeSelectTest {
    /** Reference: sort indices by (|x| desc, index asc), keep ranks [from, to). */
    static boolean[] reference(float[] x, long from, long to) {
        Integer[] idx = IntStream.range(0, x.length).boxed().toArray(Integer[]::new);
        Arrays.sort(idx, Comparator.<Integer>comparingInt(i -> MagnitudeSelect.key(x[i])).reversed()
                .thenComparingInt(i -> i));
        boolean[] keep = new boolean[x.length];
        for (int r = 0; r < x.length; r++) keep[idx[r]] = r >= from && r < to;
        return keep;
    }

    static float[] band(float[] x, long from, long to, int chunk) {
        int n = x.length;
        MagnitudeSelect sel = new MagnitudeSelect();
        boolean lower = from > 0, upper = to < n;
        long[] ranks = lower && upper ? new long[]{to - 1, from - 1} : upper ? new long[]{to - 1} : lower ? new long[]{from - 1} : new long[0];
        sel.begin(ranks);
        for (int c = 0; c < n; c += chunk) sel.countHigh(Arrays.copyOfRange(x, c, Math.min(n, c + chunk)), Math.min(chunk, n - c));
        sel.endHigh();
        for (int c = 0; c < n; c += chunk) sel.countLow(Arrays.copyOfRange(x, c, Math.min(n, c + chunk)), Math.min(chunk, n - c));
        MagnitudeSelect.Threshold up = upper && to > 0 ? sel.threshold(0) : null;
        MagnitudeSelect.Threshold lo = lower ? sel.threshold(upper ? 1 : 0) : null;
        RankBand rb = new RankBand(from, to, n, up, lo);
        float[] out = x.clone();
        for (int c = 0; c < n; c += chunk) {
            float[] part = Arrays.copyOfRange(out, c, Math.min(n, c + chunk));
            rb.apply(part, part.length);
            System.arraycopy(part, 0, out, c, part.length);
        }
        return out;
    }

    @Test
    void keepsExactlyTheTopRanksWithLowestIndexWinningTies() {
        Random r = new Random(5);
        for (int trial = 0; trial < 40; trial++) {
            int n = 1 + r.nextInt(300);
            float[] x = new float[n];
            for (int i = 0; i < n; i++) {
                // few distinct values: many ties at every threshold, both signs
                x[i] = (r.nextInt(7) - 3) * 0.5f;
                if (r.nextInt(20) == 0) x[i] = Float.NaN;
            }
            long from = r.nextInt(3) == 0 ? r.nextInt(n) : 0;
            long to = from + r.nextInt((int) (n - from) + 1);
            boolean[] keep = reference(x, from, to);
            float[] got = band(x, from, to, 1 + r.nextInt(40));
            for (int i = 0; i < n; i++) {
                float want = keep[i] ? x[i] : x[i] * 0f;
                assertEquals(Float.floatToRawIntBits(want), Float.floatToRawIntBits(got[i]),
                        "trial " + trial + " n=" + n + " [" + from + "," + to + ") at " + i);
            }
        }
    }

    @Test
    void tieRuleKeepsLowestIndices() {
        float[] x = {1f, -2f, 2f, 2f, -2f, 0.5f};
        float[] got = band(x, 0, 3, 2);
        assertArrayEquals(new float[]{0f, -2f, 2f, 2f, -0f, 0f}, got);
    }
}

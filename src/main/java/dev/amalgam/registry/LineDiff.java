package dev.amalgam.registry;

import java.util.ArrayList;
import java.util.List;

/** A line diff of two small texts (recipes) by longest common subsequence: " ", "-", "+" prefixed lines. */
final class LineDiff {
    private static final int MAX_LINES = 2000;

    private LineDiff() {
    }

    static List<String> unified(String before, String after) {
        String[] a = before.split("\n", -1);
        String[] b = after.split("\n", -1);
        if (a.length > MAX_LINES || b.length > MAX_LINES) {
            return List.of("(recipes longer than " + MAX_LINES + " lines are not diffed)");
        }
        int[][] lcs = new int[a.length + 1][b.length + 1];
        for (int i = a.length - 1; i >= 0; i--) {
            for (int j = b.length - 1; j >= 0; j--) {
                lcs[i][j] = a[i].equals(b[j]) ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
            }
        }
        List<String> out = new ArrayList<>();
        int i = 0, j = 0;
        while (i < a.length && j < b.length) {
            if (a[i].equals(b[j])) {
                out.add("  " + a[i++]);
                j++;
            } else if (lcs[i + 1][j] >= lcs[i][j + 1]) {
                out.add("- " + a[i++]);
            } else {
                out.add("+ " + b[j++]);
            }
        }
        while (i < a.length) out.add("- " + a[i++]);
        while (j < b.length) out.add("+ " + b[j++]);
        return out;
    }
}

package dev.amalgam.model;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.MalformedInputException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Calibration sequences as text: one sequence per line, token ids as whitespace-separated
 * decimal integers in [0, vocab). Blank lines and lines starting with {@code #} are skipped.
 * A line longer than {@code maxLen} tokens is cut into consecutive windows of {@code maxLen}
 * (the last may be shorter); windows never cross lines.
 */
public final class TokenFile {
    private TokenFile() {
    }

    /** A problem in a token file, naming the file and line. */
    public static final class BadTokenFile extends IllegalArgumentException {
        public BadTokenFile(String message) {
            super(message);
        }
    }

    /** The lines of the file as sequences (before windowing), in file order. */
    public static List<int[]> read(Path file, int vocab) throws IOException {
        List<int[]> out = new ArrayList<>();
        try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            int lineNo = 0;
            for (String line; (line = r.readLine()) != null; ) {
                lineNo++;
                String s = line.strip();
                if (s.isEmpty() || s.startsWith("#")) continue;
                String[] parts = s.split("\\s+");
                int[] seq = new int[parts.length];
                for (int i = 0; i < parts.length; i++) {
                    long id;
                    try {
                        id = Long.parseLong(parts[i]);
                    } catch (NumberFormatException e) {
                        throw new BadTokenFile(file + ":" + lineNo + ": token " + (i + 1) + " \"" + abbreviate(parts[i])
                                + "\" is not an integer token id (one sequence per line, ids separated by spaces)");
                    }
                    if (id < 0 || id >= vocab) {
                        throw new BadTokenFile(file + ":" + lineNo + ": token id " + id + " is outside the vocabulary [0, "
                                + vocab + ")");
                    }
                    seq[i] = (int) id;
                }
                out.add(seq);
            }
        } catch (MalformedInputException e) {
            throw new BadTokenFile(file + ": not UTF-8 text (one sequence of integer token ids per line)");
        }
        if (out.isEmpty()) throw new BadTokenFile(file + ": no sequences (one sequence of integer token ids per line)");
        return out;
    }

    /** Cuts each sequence into windows of at most {@code maxLen} tokens. */
    public static List<int[]> windows(List<int[]> sequences, int maxLen) {
        if (maxLen < 1) throw new IllegalArgumentException("--seq-len must be at least 1");
        List<int[]> out = new ArrayList<>();
        for (int[] s : sequences) {
            for (int from = 0; from < s.length; from += maxLen) {
                out.add(Arrays.copyOfRange(s, from, Math.min(s.length, from + maxLen)));
            }
        }
        return out;
    }

    private static String abbreviate(String s) {
        return s.length() <= 20 ? s : s.substring(0, 20) + "...";
    }
}

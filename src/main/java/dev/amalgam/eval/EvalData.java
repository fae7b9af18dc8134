package dev.amalgam.eval;

import dev.amalgam.model.TokenFile;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

/**
 * Evaluation data: a token file (one sequence of integer token ids per line, the format of
 * {@link TokenFile}) and its sha256, which the evidence records. Plain text is refused with a
 * clear error: Amalgam has no tokenizer implementation, so text must be tokenized beforehand with
 * the model's own tokenizer.
 */
public record EvalData(Path file, String digest, List<int[]> sequences) {
    public EvalData {
        sequences = List.copyOf(sequences);
    }

    /** Reads and checks a token file against a vocabulary size. */
    public static EvalData read(Path file, int vocab) throws IOException {
        if (!Files.isRegularFile(file)) throw new IllegalArgumentException(file + ": no such file");
        refusePlainText(file);
        List<int[]> seqs = TokenFile.read(file, vocab);
        return new EvalData(file, sha256(file), seqs);
    }

    /** Total tokens. */
    public long tokens() {
        long n = 0;
        for (int[] s : sequences) n += s.length;
        return n;
    }

    /** "sha256:HEX" of a file's bytes. */
    public static String sha256(Path file) throws IOException {
        try (InputStream in = new DigestInputStream(Files.newInputStream(file), MessageDigest.getInstance("SHA-256"))) {
            in.transferTo(java.io.OutputStream.nullOutputStream());
            return "sha256:" + HexFormat.of().formatHex(((DigestInputStream) in).getMessageDigest().digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A first data line that starts with something other than a token id reads as text, not tokens. */
    private static void refusePlainText(Path file) throws IOException {
        try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            for (String line; (line = r.readLine()) != null; ) {
                String s = line.strip();
                if (s.isEmpty() || s.startsWith("#")) continue;
                String first = s.split("\\s+", 2)[0];
                if (!first.matches("-?\\d+")) {
                    throw new TokenFile.BadTokenFile(file + ": looks like plain text (\"" + (first.length() > 20 ? first.substring(0, 20) + "..." : first)
                            + "\"): amalgam has no tokenizer implementation, so evaluation data must be a token file"
                            + " (one sequence of integer token ids per line, made with the model's own tokenizer)");
                }
                return;
            }
        } catch (java.nio.charset.MalformedInputException e) {
            throw new TokenFile.BadTokenFile(file + ": not UTF-8 text (one sequence of integer token ids per line)");
        }
    }
}

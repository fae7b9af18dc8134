package dev.amalgam.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.amalgam.ledger.CheckpointMemory;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * The client side of roll-back detection: the server's checkpoint is checked against the one this
 * client verified last time (kept in {@code $AMALGAM_CHECKPOINTS}, default
 * {@code ~/.config/amalgam/checkpoints}), with a consistency proof from it.
 */
final class CheckpointCheck {
    private CheckpointCheck() {
    }

    /** Verifies and remembers the server's checkpoint; returns a one-line summary. */
    static String verify(ApiClient client) {
        String vkey = client.getText("/api/v1/ledger/key", "text/plain").trim();
        String note = client.getText("/api/v1/ledger/checkpoint", "text/plain");
        try {
            var v = new CheckpointMemory(dir()).verify(client.base().toString(), vkey, note, (from, to) -> proof(client, from, to));
            return v.previousSize() == 0
                    ? "checkpoint of " + v.checkpoint().size() + " entries verified and remembered (first contact with this server)"
                    : "checkpoint of " + v.checkpoint().size() + " entries verified: consistent with the " + v.previousSize()
                    + " entries verified before";
        } catch (CheckpointMemory.Rejected e) {
            throw new CliException(CliException.FAILED, "REJECTED: " + e.getMessage());
        } catch (IOException e) {
            throw new CliException(CliException.UNUSABLE, "cannot keep the checkpoint memory in " + dir() + ": " + e.getMessage());
        }
    }

    private static List<byte[]> proof(ApiClient client, long from, long to) {
        JsonNode r = client.get("/api/v1/ledger/consistency?from=" + from + "&to=" + to);
        List<byte[]> out = new ArrayList<>();
        for (JsonNode h : r.get("proof")) out.add(Base64.getDecoder().decode(h.asText()));
        return out;
    }

    static Path dir() {
        String d = System.getenv("AMALGAM_CHECKPOINTS");
        if (d != null && !d.isBlank()) return Path.of(d);
        String xdg = System.getenv("XDG_CONFIG_HOME");
        Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".config");
        return base.resolve("amalgam").resolve("checkpoints");
    }
}

package dev.amalgam.scan;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.List;
import java.util.Locale;

/**
 * The result of scanning files. Verdict: CLEAN only when every file was fully analysed and nothing
 * but INFO was found; FINDINGS when anything WARNING or worse was found; otherwise
 * COULD_NOT_SCAN (fail closed).
 */
public record ScanReport(List<String> files, List<Finding> findings) {
    /** Schema version of {@link #toJson()}. */
    public static final int SCHEMA = 1;

    public enum Verdict { CLEAN, FINDINGS, COULD_NOT_SCAN }

    public ScanReport {
        files = List.copyOf(files);
        findings = List.copyOf(findings);
    }

    public Verdict verdict() {
        boolean real = findings.stream().anyMatch(f -> !f.unscannable() && f.severity() != Finding.Severity.INFO);
        if (real) return Verdict.FINDINGS;
        if (findings.stream().anyMatch(Finding::unscannable)) return Verdict.COULD_NOT_SCAN;
        return Verdict.CLEAN;
    }

    /** Exit code of {@code amalgam scan}: 0 clean, 1 findings, 2 could not scan. */
    public int exitCode() {
        return switch (verdict()) {
            case CLEAN -> 0;
            case FINDINGS -> 1;
            case COULD_NOT_SCAN -> 2;
        };
    }

    public ObjectNode toJson() {
        ObjectNode o = new ObjectMapper().createObjectNode();
        o.put("schema", SCHEMA);
        o.put("verdict", verdict().name().toLowerCase(Locale.ROOT).replace('_', '-'));
        ArrayNode fs = o.putArray("files");
        files.forEach(fs::add);
        ArrayNode arr = o.putArray("findings");
        for (Finding f : findings) {
            ObjectNode n = arr.addObject();
            n.put("file", f.file());
            n.put("rule", f.rule());
            n.put("severity", f.severity().name().toLowerCase(Locale.ROOT));
            n.put("message", f.message());
            if (f.detail() != null) n.put("detail", f.detail());
        }
        return o;
    }
}

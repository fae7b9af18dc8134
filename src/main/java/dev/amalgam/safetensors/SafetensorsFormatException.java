package dev.amalgam.safetensors;

import java.io.IOException;

/** A safetensors file (or sharded index) breaks a rule of the format: which file, which rule, why. */
public final class SafetensorsFormatException extends IOException {
    private final String file;
    private final Violation violation;
    private final String detail;

    public SafetensorsFormatException(String file, Violation violation, String detail) {
        super(file + ": " + violation.description() + (detail.isEmpty() ? "" : ": " + detail));
        this.file = file;
        this.violation = violation;
        this.detail = detail;
    }

    public String file() {
        return file;
    }

    public Violation violation() {
        return violation;
    }

    public String detail() {
        return detail;
    }
}

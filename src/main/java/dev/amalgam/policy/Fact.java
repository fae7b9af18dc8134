package dev.amalgam.policy;

import java.util.Objects;

/** One fact about a license together with where it is stated (URL of the license text and section). */
public record Fact<T>(T value, String source) {
    public Fact {
        Objects.requireNonNull(value, "value");
        Objects.requireNonNull(source, "source");
    }
}

package dev.amalgam;

import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Path;

/**
 * Files the tests read, found on the test class path (src/test/resources, copied to
 * target/test-classes): a clone of the repository carries every one of them.
 */
public final class TestResources {
    private TestResources() {
    }

    /** The folder or file at {@code name} below src/test/resources; fails naming it when missing. */
    public static Path path(String name) {
        URL url = TestResources.class.getClassLoader().getResource(name);
        if (url == null) {
            throw new IllegalStateException("test resource missing: src/test/resources/" + name);
        }
        try {
            return Path.of(url.toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException("test resource " + name + " has no file path: " + url, e);
        }
    }

    /** A set of test vectors below src/test/resources/vectors (see SOURCES.md there). */
    public static Path vectors(String set) {
        return path("vectors/" + set);
    }
}

package dev.amalgam.registry;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Folders the server may import models from ({@code AMALGAM_IMPORT_ROOTS}, separated by ':').
 * A requested folder is accepted only if its real path (symlinks resolved) lies inside the real
 * path of a root; none are configured by default, so server-side import is off.
 */
public final class ImportRoots {
    private final List<Path> roots;

    public ImportRoots(List<Path> roots) {
        List<Path> real = new ArrayList<>();
        for (Path r : roots) {
            try {
                real.add(r.toRealPath());
            } catch (IOException e) {
                // a configured root that does not exist admits nothing
            }
        }
        this.roots = List.copyOf(real);
    }

    public static ImportRoots parse(String spec) {
        List<Path> roots = new ArrayList<>();
        if (spec != null) {
            for (String s : spec.split(":")) {
                if (!s.isBlank()) roots.add(Path.of(s.trim()).toAbsolutePath());
            }
        }
        return new ImportRoots(roots);
    }

    public List<Path> roots() {
        return roots;
    }

    /** The real path of a folder to import, checked to be inside a root. */
    public Path admit(String requested) {
        if (roots.isEmpty()) {
            throw RegistryException.forbidden("server-side import is disabled: no AMALGAM_IMPORT_ROOTS configured");
        }
        if (requested == null || requested.isBlank() || requested.indexOf('\0') >= 0) {
            throw RegistryException.badRequest("an import path is required");
        }
        Path p = Path.of(requested);
        if (!p.isAbsolute()) {
            throw RegistryException.badRequest("import path must be absolute: " + requested);
        }
        for (Path seg : p) {
            if (seg.toString().equals("..")) {
                throw RegistryException.forbidden("'..' is not allowed in import paths");
            }
        }
        Path real;
        try {
            real = p.toRealPath();
        } catch (IOException e) {
            throw RegistryException.notFound("no such folder: " + requested);
        }
        if (!Files.isDirectory(real, LinkOption.NOFOLLOW_LINKS)) {
            throw RegistryException.badRequest("not a folder: " + requested);
        }
        for (Path r : roots) {
            if (real.startsWith(r)) return real;
        }
        throw RegistryException.forbidden("import path " + requested + " is outside the configured import roots");
    }
}
